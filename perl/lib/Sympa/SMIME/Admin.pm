# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Admin;

use strict;
use warnings;
use English     qw(-no_match_vars);
use Exporter    qw(import);
use POSIX       qw();
use Time::Local qw(timegm);

use Sympa::Constants;

our @EXPORT_OK = qw(become_sympa_user openssl_time days_left);

my %MONTH;
@MONTH{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = (0 .. 11);

# As Sympa's own command-line programs: run as the sympa user when started
# as root, so that files Sympa cannot read show up as unreadable and the
# files written are Sympa's.
sub become_sympa_user {
    return undef if $EUID != 0;
    my $name = Sympa::Constants::USER();
    my ($uid, $gid) = (getpwnam $name)[2, 3];
    return undef unless defined $uid;
    my $group = getgrnam Sympa::Constants::GROUP();
    $gid = $group if defined $group;
    my %groups = ($gid => 1);
    setgrent;

    while (my @entry = getgrent) {
        $groups{$entry[2]} = 1 if grep { $_ eq $name } split ' ', $entry[3];
    }
    endgrent;
    $GID  = $gid;
    $EGID = join ' ', $gid, sort { $a <=> $b } keys %groups;
    POSIX::setgid($gid);
    POSIX::setuid($uid);
    die "cannot become $name\n" unless $UID == $uid and $EUID == $uid;
    return $name;
}

# Seconds since the epoch of an OpenSSL date ("Nov 29 15:45:37 2027 GMT", as
# x509.parse gives notBefore and notAfter); undef for what is not one.
sub openssl_time {
    my $date = shift // return undef;
    my ($mon, $mday, $h, $m, $s, $year) =
        $date =~ /\A(\w{3})\s+(\d+)\s+(\d+):(\d+):(\d+)\s+(\d{4})\s+GMT\z/
        or return undef;
    return undef unless exists $MONTH{$mon};
    return eval { timegm($s, $m, $h, $mday, $MONTH{$mon}, $year) };
}

# Whole days from now to an OpenSSL date, negative once past; undef for
# what is not such a date.
sub days_left {
    my $time = openssl_time(shift) // return undef;
    return POSIX::floor(($time - time) / 86400);
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Admin - What the administration commands of sympa-smime share

=head1 SYNOPSIS

  use Sympa::SMIME::Admin qw(become_sympa_user days_left);

  my $user = become_sympa_user();    # undef unless run as root
  my $days = days_left($info->{notAfter});

=head1 DESCRIPTION

The pieces L<sympa-smime-doctor(8)> (L<Sympa::SMIME::Doctor>) and
L<sympa-smime(8)> (L<Sympa::SMIME::Certs>) both need, written once.

=over

=item become_sympa_user ( )

When run as root, becomes Sympa's user (L<Sympa::Constants>C<::USER>) with
its group and every group it is a member of, as Sympa's own command-line
programs do, and returns its name.  Returns undef when not run as root or
when there is no such user; dies with C<cannot become NAME> when the switch
does not take.

=item openssl_time ( $date )

Seconds since the epoch of a date as OpenSSL prints it
(C<Nov 29 15:45:37 2027 GMT>), or undef.

=item days_left ( $date )

Whole days from now to such a date, negative once it is past, or undef.

=back

=cut
