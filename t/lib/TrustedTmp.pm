package TrustedTmp;

# A temporary directory for files that sympa-smime trusts only in a
# directory nobody else can write to (sympa-smime.conf: Config.pm walks the
# directories above it).  Under the checkout's t/tmp, unless the checkout is
# itself under such a directory (a CI clone in /tmp): then under /var/lib,
# root's.

use strict;
use warnings;
use Cwd            qw(abs_path);
use Exporter       qw(import);
use File::Basename qw(dirname);
use File::Path     qw(make_path);
use File::Temp     qw();

use Sympa::SMIME::Config;

our @EXPORT_OK = qw(trusted_tempdir);

sub trusted_tempdir {
    my $under = abs_path(dirname(__FILE__) . '/..') . '/tmp';
    make_path($under);
    my ($untrusted) = Sympa::SMIME::Config::_walk($under);
    my $dir = File::Temp->newdir(
        DIR      => ($untrusted ? '/var/lib' : $under),
        TEMPLATE => 'sympa-smime-test-XXXXXX'
    );
    chmod 0755, "$dir" or die "$dir: $!";
    return $dir;
}

1;
__END__

=encoding utf-8

=head1 NAME

TrustedTmp - a temporary directory sympa-smime's settings trust

=head1 SYNOPSIS

  use TrustedTmp qw(trusted_tempdir);
  my $dir = trusted_tempdir();    # removed when $dir goes out of scope
  $ENV{SYMPA_SMIME_CONFIG} = "$dir/sympa-smime.conf";

=cut
