package SympaE2E::Shim;

# Turns the sympa-smime shim on and off for the suite's Sympa daemons, the
# way an administrator does: perl/bin/sympa-smime-enable installs the jar and
# the modules under /usr/share/sympa-smime and writes systemd drop-ins; the
# Environment= lines of the drop-in (PERL5LIB, PERL5OPT) are given to the
# foreground daemons. sympa-smime-disable removes all of it.

use strict;
use warnings;
use Carp qw(croak);

use SympaE2E::Util qw(run_cmd);

our $MANIFEST = '/usr/share/sympa-smime/installed-files';

sub new {
    my ($class, %opt) = @_;
    my $repo = $opt{repo};
    return bless {
        jar     => "$repo/target/sympa-smime.jar",
        module  => "$repo/perl/lib/Sympa/SMIME/Shim.pm",
        enable  => "$repo/perl/bin/sympa-smime-enable",
        disable => "$repo/perl/bin/sympa-smime-disable",
        env     => undef,
    } => $class;
}

sub available { !$_[0]->why_unavailable }

sub why_unavailable {
    my $self = shift;
    for (qw(module enable)) {
        return "no $self->{$_} in the repository" unless -e $self->{$_};
    }
    return "no $self->{jar}: build it with mvn -B -q -DskipTests package"
        unless -f $self->{jar};
    return '';
}

sub enabled { defined $_[0]{env} }

# Runs sympa-smime-enable; returns the environment the daemons need.
sub enable {
    my $self = shift;
    # -e gives undef for a missing file, which //= would not keep.
    $self->{was_installed} //= -e $MANIFEST ? 1 : 0;
    run_cmd([$self->{enable}]);
    my %env = _dropin_env();
    croak "$self->{enable} wrote no PERL5OPT in a systemd drop-in"
        unless $env{PERL5OPT};
    $self->{env} = {%env};
    return %env;
}

sub disable {
    my $self = shift;
    run_cmd([$self->{disable}]);
    $self->{env} = undef;
    return;
}

# At the end of the run: the machine as it was (installed or not).
sub restore {
    my $self = shift;
    return unless defined $self->{was_installed};
    if ($self->{was_installed}) {
        run_cmd([$self->{enable}]) unless -e $MANIFEST;
    } elsif ($self->enabled) {
        $self->disable;
    }
    return;
}

# What the drop-in sympa-smime-enable wrote for $unit (wwsympa.service for
# the web children) sets: the environment systemd would give that unit.
sub unit_env {
    my ($self, $unit) = @_;
    croak 'the shim is not enabled' unless $self->enabled;
    my %env = _dropin_env($unit);
    croak "sympa-smime-enable wrote no drop-in with PERL5OPT for $unit"
        unless $env{PERL5OPT};
    return %env;
}

sub describe {
    my $self = shift;
    my $env  = $self->{env} || {};
    return map {"$_=$env->{$_}"} sort keys %$env;
}

# Environment= settings of the drop-in sympa-smime-enable wrote for $unit
# (default sympa.service), or for another unit when there is none for
# that one (no unit: the daemons); for a unit named, only its own.
sub _dropin_env {
    my $unit = shift;
    my @files =
        $unit
        ? grep({ -f $_ } "/etc/systemd/system/$unit.d/sympa-smime.conf")
        : sort {
        ($a !~ m{/sympa\.service\.d/}) <=> ($b !~ m{/sympa\.service\.d/})
            or $a cmp $b
        } glob '/etc/systemd/system/*.service.d/sympa-smime.conf';
    my %env;
    open my $fh, '<', $files[0] // '' or return ();
    while (<$fh>) {
        next unless /^Environment=(.*)$/;
        my $spec = $1;
        while ($spec =~ /"([^"=]+)=([^"]*)"|(\S+?)=(\S*)/g) {
            my ($k, $v) = defined $1 ? ($1, $2) : ($3, $4);
            $env{$k} = $v;
        }
    }
    return %env;
}

1;
__END__

=head1 NAME

SympaE2E::Shim - enable and disable the sympa-smime shim for the e2e suite

=head1 DESCRIPTION

C<available> tells whether the repository has the shim, its install command
and the jar; C<enable> runs C<sympa-smime-enable> and returns the daemons'
environment (PERL5LIB, PERL5OPT) read from the systemd drop-in it wrote;
C<unit_env($unit)> returns what the drop-in of one unit sets (the web
children's, C<wwsympa.service>); C<disable> runs C<sympa-smime-disable>; C<restore> leaves sympa-smime
installed or not, as it was before the run.

=cut
