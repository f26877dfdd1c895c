package SympaE2E::Shim;

# Turns the sympa-smime shim on and off for the suite's Sympa daemons.
#
# With perl/bin/sympa-smime-enable in the repository, this is the install
# command itself: it installs the jar and the modules and writes systemd
# drop-ins, whose Environment= lines (PERL5LIB, PERL5OPT ...) are then given
# to our foreground daemons; sympa-smime-disable undoes it. Without the
# command, the harness does the same by hand: copies the jar and perl/lib
# into the state directory and sets PERL5LIB and PERL5OPT itself.

use strict;
use warnings;
use Carp       qw(croak);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);

use SympaE2E::Util qw(run_cmd);

sub new {
    my ($class, %opt) = @_;
    my $repo = $opt{repo};
    return bless {
        repo    => $repo,
        state   => $opt{state},
        jar     => "$repo/target/sympa-smime.jar",
        lib     => "$repo/perl/lib",
        module  => "$repo/perl/lib/Sympa/SMIME/Shim.pm",
        enable  => "$repo/perl/bin/sympa-smime-enable",
        disable => "$repo/perl/bin/sympa-smime-disable",
        env     => undef,
    } => $class;
}

sub available { !$_[0]->why_unavailable }

sub why_unavailable {
    my $self = shift;
    return "no $self->{module} in the repository" unless -f $self->{module};
    return "no $self->{jar}: build it with mvn -B -q -DskipTests package"
        unless -f $self->{jar};
    return '';
}

sub enabled { defined $_[0]{env} }

# Enables the shim; returns the environment the daemons need.
sub enable {
    my $self = shift;
    my %env;
    if (-x $self->{enable}) {
        $self->{output} = run_cmd([$self->{enable}]);
        %env = _dropin_env();
        croak "$self->{enable} wrote no PERL5OPT in a systemd drop-in"
            unless $env{PERL5OPT};
        $self->{how} = $self->{enable};
    } else {
        my $dir = $self->{state};
        remove_tree($dir) if -e $dir;
        make_path("$dir/lib");
        run_cmd(['cp', '-R', "$self->{lib}/.", "$dir/lib/"]);
        copy($self->{jar}, "$dir/sympa-smime.jar") or croak "copy jar: $!";
        run_cmd(['chmod', '-R', 'a+rX', $dir]);
        %env = (
            PERL5LIB        => "$dir/lib",
            PERL5OPT        => '-MSympa::SMIME::Shim',
            SYMPA_SMIME_JAR => "$dir/sympa-smime.jar",
        );
        $self->{how} = 'harness (no perl/bin/sympa-smime-enable)';
    }
    $self->{env} = {%env};
    return %env;
}

sub disable {
    my $self = shift;
    run_cmd([$self->{disable}]) if -x $self->{disable} && -x $self->{enable};
    $self->{env} = undef;
    return;
}

sub describe {
    my $self = shift;
    my $env  = $self->{env} || {};
    return ("enabled by $self->{how}:",
        map { "$_=$env->{$_}" } sort keys %$env);
}

# Environment= settings of the drop-in sympa-smime-enable wrote for
# sympa.service (or for any unit, when there is none for that one).
sub _dropin_env {
    my @files = sort {
        ($a !~ m{/sympa\.service\.d/}) <=> ($b !~ m{/sympa\.service\.d/})
            or $a cmp $b
    } glob '/etc/systemd/system/*.service.d/sympa-smime.conf';
    my %env;
    open my $fh, '<', $files[0] or return ();
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

C<available> tells whether the repository has the shim and the jar;
C<enable> returns the daemons' environment (PERL5LIB, PERL5OPT, ...);
C<disable> undoes it.

=cut
