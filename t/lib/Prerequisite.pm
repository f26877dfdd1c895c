package Prerequisite;

# What a test file does when something it needs is not there (the jar, java,
# Sympa, the corpus): outside CI it skips, so that a developer can run what
# their machine allows; under CI (CI=true, as .ci/run is run) it fails,
# because CI installs everything and a suite that skips its main part must
# not pass.

use strict;
use warnings;
use Exporter   qw(import);
use Test::More ();

our @EXPORT_OK = qw(missing);

sub missing {
    my $why     = shift;
    my $builder = Test::More->builder;
    my $ci      = ($ENV{CI} // '') =~ /\A(?:true|1|yes)\z/i;
    unless ($builder->has_plan or $builder->current_test) {
        Test::More::plan(skip_all => $why) unless $ci;
        Test::More::plan(tests    => 1);
    }
    if ($ci) {
        Test::More::fail("prerequisite missing under CI: $why");
    } else {
        $builder->skip($why);
    }
    Test::More::done_testing() unless $builder->has_plan;
    exit($ci ? 1 : 0);
}

1;
__END__

=encoding utf-8

=head1 NAME

Prerequisite - skip outside CI, fail under CI

=head1 SYNOPSIS

  use Prerequisite qw(missing);
  missing('java is not installed') unless $have_java;

=head1 DESCRIPTION

C<missing($why)> ends the plan of a test file whose prerequisite is absent:
with C<skip_all> normally, with one failed test and exit status 1 when the
environment variable C<CI> is C<true>.

=cut
