# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Certs;

use strict;
use warnings;
use English    qw(-no_match_vars);
use File::Temp qw();

use Sympa::Tools::Text;
use Sympa::SMIME::Admin qw(days_left);
use Sympa::SMIME::Config;
use Sympa::SMIME::Sidecar;

our $VERSION = '0.1.0';

use constant BATCH => 200;

# Purposes of a file by the suffix Sympa gives its name
# (Sympa::Message::check_smime_signature): none for a certificate that signs
# and encrypts.
my %SUFFIX = (both => '', sign => '@sign', enc => '@enc');

# Failures of a call that are not about the certificate checked.
my %GLOBAL_FAILURE = map { $_ => 1 }
    qw(trust_store_unreadable sidecar_unavailable timeout unknown_method
    malformed_input internal);

# Errors the caller reports to the admin as they are: bad input (exit 2) or
# a set-up that does not work (exit 3).
sub fail {
    my ($status, $format, @args) = @_;
    die bless {status => $status, message => sprintf($format, @args)},
        'Sympa::SMIME::Certs::Error';
}

# %options: dir (ssl_cert_dir), days (the "expiring" window, default 30),
# cafile, capath (Sympa's settings), config (the sidecar's settings, from
# Sympa::SMIME::Sidecar->config).
sub new {
    my ($class, %options) = @_;
    fail(3, 'ssl_cert_dir is not set') unless length($options{dir} // '');
    return bless {
        days   => 30,
        config => {},
        %options,
    } => $class;
}

sub dir { return $_[0]{dir} }

# The name Sympa gives the file of $email's certificate for $purpose
# (both, sign or enc), with its escaping of characters unsafe in file names.
sub file_name {
    my ($self, $email, $purpose) = @_;
    return Sympa::Tools::Text::encode_filesystem_safe($email)
        . $SUFFIX{$purpose // 'both'};
}

# The address and purpose ('both', 'sign', 'enc') a file name stands for.
sub parse_file_name {
    my ($self,    $name)   = @_;
    my ($escaped, $suffix) = $name =~ /\A(.+?)(\@(?:sign|enc))?\z/s;
    my ($purpose) = grep { $SUFFIX{$_} eq ($suffix // '') } keys %SUFFIX;
    return (Sympa::Tools::Text::decode_filesystem_safe($escaped), $purpose);
}

# An address as Sympa keys certificates: canonical, and valid.
sub address {
    my ($self, $input) = @_;
    my $email = Sympa::Tools::Text::canonic_email($input);
    fail(2, '"%s" is not an e-mail address', $input // '')
        unless defined $email and Sympa::Tools::Text::valid_email($email);
    return $email;
}

# The parameters of x509.check that the mail path uses for trust: Sympa's
# cafile and capath, the sidecar's crl_path and algorithm policy.
sub _check_params {
    my $self   = shift;
    my $config = $self->{config};
    return (
        (   map      { ($_ => $self->{$_}) }
                grep { defined $self->{$_} and length $self->{$_} }
                qw(cafile capath)
        ),
        Sympa::SMIME::Config->revocation($config),
        Sympa::SMIME::Config->algorithm_policy($config),
    );
}

# x509.check of each of @sources ({path => ...} or {pem => ...}), batched;
# one {result} or {error} each.  An unreadable trust store or CRL fails every
# check alike, so it stops the command.
sub _check {
    my ($self, @sources) = @_;
    my %params   = $self->_check_params;
    my @requests = map { ['x509.check', {%params, %$_}] } @sources;
    my @answers;
    my $sidecar = Sympa::SMIME::Sidecar->instance;
    while (my @chunk = splice @requests, 0, BATCH) {
        my @got = eval { $sidecar->call_many(\@chunk) };
        fail(3, 'the sidecar cannot check certificates: %s',
            _message($EVAL_ERROR))
            unless @got;
        push @answers, @got;
    }
    foreach my $i (0 .. $#answers) {
        my $error  = $answers[$i]{error} or next;
        my $reason = $error->can('reason') ? $error->reason : '';
        my $path   = $sources[$i]{path};

        # What is wrong with the certificate is its own answer; a trust
        # store, CRLs or a sidecar that do not work are everyone's.  A file
        # that cannot be read is named in the message.
        fail(3, '%s', _message($error))
            if $GLOBAL_FAILURE{$reason}
            or (
            $reason eq 'file_unreadable'
            and not(defined $path
                and index($error->message // '', $path) >= 0)
            );
    }
    return @answers;
}

sub _message {
    my $error = shift;
    my $text =
        (ref $error and $error->can('reason'))
        ? sprintf('%s: %s', $error->reason, $error->message // '')
        : "$error";
    $text =~ s/\s+\z//;
    return $text;
}

# The files of ssl_cert_dir, sorted; dot files are Sympa's or an editor's.
sub files {
    my $self = shift;
    my $dir  = $self->{dir};
    fail(3, 'ssl_cert_dir %s does not exist', $dir) unless -e $dir;
    opendir my $dh, $dir or fail(3, 'ssl_cert_dir %s: %s', $dir, $ERRNO);
    my @files = grep { !/\A\./ and -f "$dir/$_" } sort readdir $dh;
    closedir $dh;
    return @files;
}

# One entry per file of ssl_cert_dir (or of @files), as inventory() lists
# them.
sub inventory {
    my ($self, @files) = @_;
    @files = $self->files unless @files;
    my @answers = $self->_check(map { {path => "$self->{dir}/$_"} } @files);
    return map { $self->_entry($files[$_], $answers[$_]) } 0 .. $#files;
}

# What one file holds and its status, from the sidecar's answer.
sub _entry {
    my ($self, $file, $answer) = @_;
    my ($email, $purpose) = $self->parse_file_name($file);
    my %entry = (
        address => $email,
        file    => $file,
        path    => "$self->{dir}/$file",
        named   => $purpose,
    );
    if (my $error = $answer->{error}) {
        return {
            %entry,
            status => 'unreadable',
            reason => ($error->can('reason') ? $error->reason  : 'internal'),
            detail => ($error->can('reason') ? $error->message : "$error"),
        };
    }
    my $result   = $answer->{result};
    my $cert     = $result->{certificate};
    my $days     = days_left($cert->{notAfter});
    my @purposes = grep { $cert->{purpose}{$_} } qw(sign enc);
    %entry = (
        %entry,
        purposes           => \@purposes,
        subject            => $cert->{subject},
        issuer             => $cert->{issuer},
        not_before         => $cert->{notBefore},
        not_after          => $cert->{notAfter},
        days_left          => $days,
        emails             => $cert->{emails},
        serial             => $cert->{serial},
        fingerprint_sha256 => $cert->{fingerprint_sha256},
        key                => join(' ',
            grep {defined} $cert->{key_algorithm}, $cert->{key_size},
            $cert->{curve}),
        chain    => $result->{chain},
        encrypt  => $result->{encrypt},
        warnings => $result->{warnings},
    );
    my $chain = $result->{chain};
    my ($status, $reason, $detail);

    if (defined $days and $days < 0) {
        ($status, $reason, $detail) =
            ('expired', 'expired', "expired on $cert->{notAfter}");
    } elsif (not $chain->{valid} and $chain->{reason} eq 'revoked') {
        ($status, $reason, $detail) =
            ('revoked', 'revoked', $chain->{detail});
    } elsif (not $chain->{valid}) {
        ($status, $reason, $detail) =
            ('untrusted', $chain->{reason}, $chain->{detail});
    } elsif (defined $days and $days < $self->{days}) {
        ($status, $reason, $detail) = (
            'expiring', 'expiring',
            "expires in $days day(s), on $cert->{notAfter}"
        );
    } else {
        ($status, $reason, $detail) = ('valid', 'ok', '');
    }
    my @notes;
    push @notes, "the certificate does not name $email"
        unless
        grep { (Sympa::Tools::Text::canonic_email($_) // '') eq $email }
        @{$cert->{emails} || []};
    push @notes, "named \@$purpose, but the certificate is not for $purpose"
        if $purpose ne 'both' and not $cert->{purpose}{$purpose};
    push @notes,
        sprintf
        'named as for signing and encryption, but the certificate is for %s only',
        @purposes
        if $purpose eq 'both' and @purposes == 1;
    return {
        %entry,
        status => $status,
        reason => $reason,
        detail => $detail,
        notes  => \@notes,
    };
}

# Counts by status.
sub summary {
    my ($self, @entries) = @_;
    my %count = map { $_ => 0 }
        qw(valid expiring expired untrusted revoked unreadable);
    $count{$_->{status}}++ foreach @entries;
    return \%count;
}

# Every file of $email: {both, sign, enc} => entry, for those that exist.
sub show {
    my ($self, $input) = @_;
    my $email = $self->address($input);
    my @files = grep { -f "$self->{dir}/$_" }
        map { $self->file_name($email, $_) } qw(both sign enc);
    fail(1, 'no certificate of %s in %s', $email, $self->{dir})
        unless @files;
    my @entries = $self->inventory(@files);
    return {
        address      => $email,
        certificates => \@entries,
        %{$self->recipient_file($email)},
    };
}

# The file Sympa::Message::smime_encrypt() takes for $email (its @enc file
# when there is one, else the plain one) and what smime.encrypt says of it,
# through x509.check.
sub recipient_file {
    my ($self, $email, $checked) = @_;
    my $file = $self->recipient_file_name($email);
    my %out  = (encrypt_file => $file);
    unless (-f "$self->{dir}/$file") {
        return {
            %out,
            usable => 0,
            reason => 'file_unreadable',
            detail => 'no certificate'
        };
    }
    my $entry = $checked && $checked->{$file};
    ($entry) = $self->inventory($file) unless $entry;
    return {
        %out,
        usable => ($entry->{encrypt} && $entry->{encrypt}{usable} ? 1 : 0),
        reason => (
            $entry->{encrypt} ? $entry->{encrypt}{reason} : $entry->{reason}
        ),
        detail => (
            $entry->{encrypt} ? $entry->{encrypt}{detail} : $entry->{detail}
        ),
    };
}

# The recipients of a post to $list (a Sympa::List) who get an encrypted copy
# one by one (Sympa::List::get_recipients_per_mode(): reception mail, notice,
# txt, urlize; not digest, summary, nomail or a suspended subscription), and
# for each the file Sympa would encrypt to and whether smime.encrypt takes
# it.  Those without one get x509-user-cert-missing instead of the post.
sub list_recipients {
    my ($self, $list) = @_;
    # get_recipients_per_mode() reads only the sender of the message, to
    # leave out a "not_me" subscriber: nobody here.
    my $per_mode = $list->get_recipients_per_mode({sender => ''}) || {};
    my %seen;
    my @emails = grep { !$seen{$_}++ }
        map {
        @{$per_mode->{$_}{noverp} || []}, @{$per_mode->{$_}{verp} || []}
        }
        grep { $per_mode->{$_} } qw(mail notice txt urlize);
    my %files;
    foreach my $email (@emails) {
        my $file = $self->recipient_file_name($email);
        $files{$file} = 1 if -f "$self->{dir}/$file";
    }
    my @names = sort keys %files;
    my %checked =
        @names ? (map { ($_->{file} => $_) } $self->inventory(@names)) : ();
    return [
        map { {email => $_, %{$self->recipient_file($_, \%checked)}} }
        sort @emails
    ];
}

# ADDRESS@enc when there is one, else ADDRESS.
sub recipient_file_name {
    my ($self, $email) = @_;
    my $base = $self->file_name($email);
    return -f "$self->{dir}/$base\@enc" ? "$base\@enc" : $base;
}

# Installs the certificates of $email found in the PEM text $pem (the address
# from the certificate when $email is undef) as Sympa does when it harvests a
# signer's certificates: each certificate must name the address and its
# path must validate as the verifier validates a signer's (trusted by cafile
# or capath, current, not revoked); one for signing and encryption is stored
# as "email", else "email@sign" and "email@enc", and the names it replaces are
# removed.  Returns {address, installed => [files], removed => [files]}.
sub import_pem {
    my ($self, $pem, $input) = @_;
    my @blocks = $pem =~
        /(-----BEGIN (?:X509 )?CERTIFICATE-----.*?-----END (?:X509 )?CERTIFICATE-----)/gs;
    fail(2, 'no PEM certificate in the file') unless @blocks;

    # Each certificate is checked with the others of the file as its
    # possible intermediates, as those of a message are.
    my @answers = $self->_check(
        map {
            my $i = $_;
            {   pem => join "\n",
                $blocks[$i], @blocks[grep { $_ != $i } 0 .. $#blocks]
            }
        } 0 .. $#blocks
    );
    foreach my $i (0 .. $#answers) {
        fail(
            2,      'certificate %d of the file: %s',
            $i + 1, _message($answers[$i]{error})
        ) if $answers[$i]{error};
    }
    my @certs = map { $_->{result} } @answers;
    my $email;
    if (defined $input) {
        $email = $self->address($input);
    } else {
        my %found;
        foreach my $cert (@certs) {
            $found{$_} = 1 foreach _emails($cert->{certificate});
        }
        fail(2, 'no certificate of the file names an e-mail address')
            unless %found;
        fail(
            2,
            'the file names several addresses (%s): say which with --address',
            join(', ', sort keys %found)
        ) if keys %found > 1;
        ($email) = keys %found;
    }

    # Sympa::Message::check_smime_signature()'s choice, in file order.
    my (%take, @refused);
    foreach my $cert (@certs) {
        next unless grep { $_ eq $email } _emails($cert->{certificate});
        my $purpose = $cert->{certificate}{purpose};
        my $kind =
              ($purpose->{sign} and $purpose->{enc}) ? 'both'
            : $purpose->{sign}                       ? 'sign'
            : $purpose->{enc}                        ? 'enc'
            :                                          undef;
        unless ($kind) {
            push @refused, 'a certificate for neither signing nor encryption';
            next;
        }
        unless ($cert->{chain}{valid}) {
            push @refused, sprintf '%s: %s', $cert->{chain}{reason},
                $cert->{chain}{detail};
            next;
        }
        $take{$kind} //= $cert;
        last if $take{both} or ($take{sign} and $take{enc});
    }
    unless (%take) {
        fail(2, 'no certificate of the file names %s', $email)
            unless @refused;
        fail(
            2,
            'refused, as Sympa would not store it from a signed message: %s',
            join('; ', @refused)
        );
    }

    my (@installed, @removed);
    foreach my $kind (sort keys %take) {
        my $file = $self->file_name($email, $kind);
        my @stale =
            $kind eq 'both'
            ? map { $self->file_name($email, $_) } qw(sign enc)
            : ($self->file_name($email));
        foreach my $old (@stale) {
            next unless -e "$self->{dir}/$old";
            unlink "$self->{dir}/$old"
                or fail(3, 'cannot remove %s/%s: %s', $self->{dir}, $old,
                $ERRNO);
            push @removed, $old;
        }
        $self->_write($file, $take{$kind}{certificate}{pem});
        push @installed, {file => $file, purposes => $kind};
    }
    return {
        address   => $email,
        installed => \@installed,
        removed   => \@removed
    };
}

sub _emails {
    my $cert = shift;
    return grep { Sympa::Tools::Text::valid_email($_) }
        map     { Sympa::Tools::Text::canonic_email($_) // () }
        @{$cert->{emails} || []};
}

# Replaces the file at once, so that no daemon reads half a certificate.
sub _write {
    my ($self, $file, $content) = @_;
    my $tmp = File::Temp->new(
        DIR      => $self->{dir},
        TEMPLATE => '.import-XXXXXX',
        UNLINK   => 1
    );
    print $tmp $content;
    close $tmp or fail(3, 'cannot write in %s: %s', $self->{dir}, $ERRNO);
    # Readable by the daemons' group, as Sympa's umask leaves the files it
    # writes there.
    chmod 0644, $tmp->filename;
    rename $tmp->filename, "$self->{dir}/$file"
        or fail(3, 'cannot install %s/%s: %s', $self->{dir}, $file, $ERRNO);
    $tmp->unlink_on_destroy(0);
    return;
}

# Removes every file of $email's certificates.
sub remove {
    my ($self, $input) = @_;
    my $email = $self->address($input);
    my @removed;
    foreach my $file (map { $self->file_name($email, $_) } qw(both sign enc))
    {
        next unless -e "$self->{dir}/$file";
        unlink "$self->{dir}/$file"
            or
            fail(3, 'cannot remove %s/%s: %s', $self->{dir}, $file, $ERRNO);
        push @removed, $file;
    }
    fail(1, 'no certificate of %s in %s', $email, $self->{dir})
        unless @removed;
    return {address => $email, removed => \@removed};
}

# As Sympa's own command-line programs: run as the sympa user when started
# as root (Sympa::SMIME::Admin).
sub become_sympa_user {
    my $name = eval { Sympa::SMIME::Admin::become_sympa_user() };
    fail(3, '%s', $EVAL_ERROR =~ s/\s+\z//r) if $EVAL_ERROR;
    return $name;
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Certs - The inventory of Sympa's user certificates

=head1 SYNOPSIS

  my $certs = Sympa::SMIME::Certs->new(
      dir    => $Conf::Conf{ssl_cert_dir},
      cafile => $Conf::Conf{cafile},
      capath => $Conf::Conf{capath},
      config => Sympa::SMIME::Sidecar->instance->config,
      days   => 30,
  );
  my @entries = $certs->inventory;

=head1 DESCRIPTION

The logic of C<sympa-smime certs> (L<sympa-smime(8)>): the files of
C<ssl_cert_dir> under the names Sympa gives them, each judged by the
sidecar's C<x509.check> (the verifier's path validation and
C<smime.encrypt>'s recipient check, see F<docs/certificates.md>), the
subscribers of a list without a usable encryption certificate, and import and
removal as Sympa's harvest of a signer's certificate does them.

Sympa's libraries (C<Sympa::Tools::Text>, and C<Sympa::List> for
L</list_recipients>) must be loaded by the caller.

Errors are thrown as C<Sympa::SMIME::Certs::Error> objects, hashes with
C<status> (1: nothing found, 2: bad input, 3: a set-up that does not work)
and C<message>.

=head1 METHODS

=over

=item new ( dir =E<gt> $dir, [ days, cafile, capath, config ] )

=item file_name ( $email, [ $purpose ] ), parse_file_name ( $name )

The file name of an address for a purpose (C<both>, C<sign>, C<enc>), with
C<Sympa::Tools::Text::encode_filesystem_safe()>, and back.

=item inventory ( [ @files ] )

One hash per file: C<address>, C<file>, C<named> (the purpose of its name),
C<purposes>, C<subject>, C<issuer>, C<not_before>, C<not_after>,
C<days_left>, C<status> (C<valid>, C<expiring>, C<expired>, C<untrusted>,
C<revoked>, C<unreadable>), C<reason>, C<detail>, C<chain> and C<encrypt>
(the sidecar's verdicts), C<notes>.

=item summary ( @entries )

=item show ( $address )

=item list_recipients ( $list )

=item import_pem ( $pem, [ $address ] )

=item remove ( $address )

=item become_sympa_user ( )

L<Sympa::SMIME::Admin/become_sympa_user>, failing with status 3.

=back

=head1 SEE ALSO

L<sympa-smime(8)>, F<docs/certificates.md>, F<docs/protocol.md>.

=cut
