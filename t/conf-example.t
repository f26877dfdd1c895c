# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# perl/sympa-smime.conf.example shows each default that Config.pm has as
# the default: an administrator who uncomments a line gets what runs.
use strict;
use warnings;
use Test::More;
use lib 'perl/lib';
use Sympa::SMIME::Config;

# No file, no environment: the defaults alone.
delete @ENV{grep {/\ASYMPA_SMIME_/} keys %ENV};
$ENV{SYMPA_SMIME_CONFIG} = '/dev/null';
my $defaults = Sympa::SMIME::Config->load;

open my $fh, '<', 'perl/sympa-smime.conf.example' or die $!;
my %shown = map { /\A#(\w+) = (.*)\n\z/ ? ($1 => $2) : () } <$fh>;

# jar and java show a path of this machine's kind, crl_path an example: not
# defaults.
my @keys = grep { $_ ne 'jar' and $_ ne 'java' and defined $defaults->{$_} }
    Sympa::SMIME::Config->keys_in_order;
ok scalar(@keys) >= 5, 'Config.pm has defaults to compare';
foreach my $key (@keys) {
    my $shown = $shown{$key};
    $shown = ($shown =~ /\A(?:yes|no)\z/ ? ($shown eq 'yes' ? 1 : 0) : $shown)
        if defined $shown;
    is $shown, $defaults->{$key}, "the example shows the default $key";
}

done_testing();
