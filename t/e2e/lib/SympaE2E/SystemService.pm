package SympaE2E::SystemService;

# The packaged Sympa's own daemons would race ours for the incoming spool:
# stop them for the run (when systemd runs them) and start them again after.

use strict;
use warnings;

sub new { bless {stopped => []}, shift }

sub _systemd { -d '/run/systemd/system' && -x '/bin/systemctl' }

sub stop_if_running {
    my $self = shift;
    return unless _systemd();
    for my $unit (qw(sympa.service sympa-bulk.service)) {
        next unless system('systemctl', '--quiet', 'is-active', $unit) == 0;
        system('systemctl', 'stop', $unit) == 0 or die "cannot stop $unit";
        push @{$self->{stopped}}, $unit;
    }
}

sub stopped { @{$_[0]{stopped}} }

sub restore {
    my $self = shift;
    system('systemctl', 'start', $_) for splice @{$self->{stopped}};
}

1;
__END__

=head1 NAME

SympaE2E::SystemService - stop the packaged Sympa daemons for a run

=head1 DESCRIPTION

C<stop_if_running> stops C<sympa.service> and C<sympa-bulk.service> when
systemd runs them; C<stopped> names the units it stopped; C<restore> starts
them again.

=cut
