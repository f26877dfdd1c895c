# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime: S/MIME for Sympa through a Java sidecar.
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Shim;

use strict;
use warnings;
use English      qw(-no_match_vars);
use MIME::Base64 qw();
use Scalar::Util qw();
use Sub::Util    qw();

# All of our code is loaded now, as the daemon starts: sympa-smime-disable or
# a package removal may take the modules away while it runs.
use Sympa::SMIME::Config;
use Sympa::SMIME::Sidecar;

# Now, while %ENV is still the program's: it keeps the settings given in the
# environment for CGI requests, whose %ENV is the web server's.
use Sympa::SMIME::Config ();

our $VERSION = '0.1.0';

# The Sympa versions this shim was tested with.
use constant TESTED_SYMPA => ('6.2.70', '6.2.80');

# The replaced subroutines as Sympa defined them, by full name.
our %ORIGINAL;

# What is replaced, by the file that defines it.
my %PATCH = (
    'Sympa/Message.pm' => [
        'Sympa::Message',
        check_smime_signature => \&check_smime_signature,
        smime_decrypt         => \&smime_decrypt,
        smime_encrypt         => \&smime_encrypt,
        smime_sign            => \&smime_sign,
    ],
    'Sympa/Tools/SMIME.pm' =>
        ['Sympa::Tools::SMIME', parse_cert => \&parse_cert],
    'Sympa/List.pm' => ['Sympa::List', get_cert => \&get_cert],
    'FCGI.pm'       => ['FCGI',        Accept   => \&_fcgi_accept],
);

my $log;        # Sympa::Log, once a Sympa module is there.
my %loading;    # Files the @INC hook is loading, against re-entry.

# The replaced function that runs now, by full name: what a sidecar that
# cannot run falls back to (_guard).
our $running;

# What was said of a sidecar that cannot run ("fallback" or "closed": both
# happen in one process when only one of the XS modules is installed), by
# the pid that said it: once per process, again once it has run again.
my %unavailable_said;

# The pid that logged the notice line of _announce.
my $announced;

# Loads a watched module from the rest of @INC, then patches it.
my $inc_hook = sub {
    my (undef, $file) = @_;

    return unless $PATCH{$file} and not $loading{$file};
    local $loading{$file} = 1;
    require $file;
    _patch($file);

    # The module is loaded: what the outer require compiles is a no-op.
    open my $fh, '<', \"1;\n";
    return $fh;
};

# Patch at once what is loaded; hook the rest.
_patch($_) foreach grep { $INC{$_} } sort keys %PATCH;
if (grep { not $INC{$_} } keys %PATCH) {
    unshift @INC, $inc_hook;
    _keep_hook_first_after_use_lib();
}

# Sympa's scripts "use lib" their library after PERL5OPT has loaded us,
# which puts it before the hook: put the hook back in front.
sub _keep_hook_first_after_use_lib {
    require lib;
    my $import = \&lib::import;
    no warnings 'redefine';
    *lib::import = sub {
        $import->(@_);
        return if %loading;    # Never move a hook perl is running.
        my @others = grep { not(ref $_ and $_ == $inc_hook) } @INC;
        @INC = ($inc_hook, @others) if @others < @INC;
        return;
    };
}

sub _patch {
    my $file = shift;
    my ($package, %subs) = @{$PATCH{$file}};

    require Sympa::Log;
    unless ($log) {
        $log = Sympa::Log->instance;
        _announce_when_logging();
    }

    no strict 'refs';
    no warnings 'redefine';
    foreach my $name (sort keys %subs) {
        my $full_name = $package . '::' . $name;
        next if $ORIGINAL{$full_name} or not defined &{$full_name};
        $ORIGINAL{$full_name} = \&{$full_name};
        *{$full_name} = $subs{$name};
    }
}

# A daemon's log is opened after the modules are loaded, and before that a
# line only goes to stderr: the notice line waits for Sympa::Log->openlog
# (or is logged at once when the log is already open).
sub _announce_when_logging {
    if (defined $log->{_service}) {
        _announce();
        return;
    }
    my $openlog = \&Sympa::Log::openlog;
    no warnings 'redefine';
    *Sympa::Log::openlog = sub {
        my @result = $openlog->(@_);
        _announce();
        return wantarray ? @result : $result[0];
    };
    return;
}

# One line when a process has loaded the shim: what it runs (this version,
# the jar, java, Sympa) and what it does when the sidecar cannot run.  At
# err when the jar or java is missing (no mail needs to flow for the
# administrator to see it) and when Sympa's version is not one this shim was
# tested with.  Starts no sidecar.
sub _announce {
    return if defined $announced;
    $announced = $PID;

    # Daemons set their log level after opening the log; until then a line
    # would go to stderr only.
    local $log->{level} = $log->{level} // 0;

    my $conf  = _config();
    my $jar   = $conf->{jar} // '';
    my $java  = Sympa::SMIME::Sidecar::find_java($conf->{java});
    my $sympa = eval { require Sympa::Constants; Sympa::Constants::VERSION() }
        // 'unknown';
    my $jar_ok  = (length $jar and -f $jar and -r _);
    my $why_not = Sympa::SMIME::Config->fallback($conf);
    $log->syslog(
        (($jar_ok and defined $java) ? 'notice' : 'err'),
        'sympa-smime %s: shim loaded in %s (pid %d): jar %s%s, java %s, Sympa %s; if the sidecar cannot run: %s',
        $VERSION,
        $PROGRAM_NAME,
        $PID, $jar,
        ($jar_ok ? '' : ' (missing)'),
        (   defined $java ? $java
            : sprintf('"%s" (not found)', $conf->{java} // '')
        ),
        $sympa,
        (   defined $why_not ? "fail closed ($why_not)"
            : "fall back to Crypt::SMIME (fallback = $conf->{fallback})"
        )
    );

    unless (_version_in($sympa, TESTED_SYMPA)) {
        $log->syslog(
            'err',
            'sympa-smime %s: Sympa %s is outside the versions it was tested with (%s to %s); S/MIME may not work as expected',
            $VERSION,
            $sympa,
            TESTED_SYMPA
        );
    }
    return;
}

# Whether version $version is between $low and $high (inclusive), number by
# number; no for anything but digits and dots.
sub _version_in {
    my ($version, $low, $high) = @_;

    return 0 unless $version =~ /\A\d+(?:\.\d+)*\z/;
    my $compare = sub {
        my @a = split /\./, shift;
        my @b = split /\./, shift;
        while (@a or @b) {
            my $cmp = (shift(@a) // 0) <=> (shift(@b) // 0);
            return $cmp if $cmp;
        }
        return 0;
    };
    return (    $compare->($version, $low) >= 0
            and $compare->($version, $high) <= 0) ? 1 : 0;
}

# Sympa's log names the function that logs: the lines of the functions run
# by _guard keep the names they had, Sympa::SMIME::Shim::smime_sign() and so
# on.
Sub::Util::set_subname(__PACKAGE__ . "::$_", __PACKAGE__->can("_$_"))
    foreach qw(check_smime_signature smime_decrypt smime_encrypt smime_sign
    parse_cert);

# Runs $code, the shim's function for $full_name, with @args.  A sidecar
# that cannot run (_cannot_run) makes it run Sympa's own function instead,
# from the start: the shim's functions change nothing of the message before
# their first sidecar call.
sub _guard {
    my $full_name = shift;
    my $code      = shift;
    my @args      = @_;

    local $running = $full_name;
    my $want = wantarray;
    my @result;
    my $done = eval {
        if ($want) {
            @result = $code->(@args);
        } else {
            $result[0] = $code->(@args);
        }
        1;
    };
    unless ($done) {
        my $error = $EVAL_ERROR;
        die $error unless ref $error eq 'Sympa::SMIME::Shim::Fallback';
        return $ORIGINAL{$full_name}->(@args);
    }
    return $want ? @result : $result[0];
}

# The sidecar cannot run ($error): its JVM does not start, java or the jar is
# missing (sympa-smime-disable, a package removed while the daemon runs),
# the settings cannot be trusted.  Never a refusal, a timeout nor a sidecar
# that died handling a request: those concern the message, which the weaker
# engine must not get a second chance at.  Falls back to Sympa's own function
# (dies for _guard to run it) when the settings allow it and the engine it
# needs is installed; else returns, and the caller fails as for any failure,
# with its one line per message.  Either way, one line at err per process.
sub _cannot_run {
    my $error = shift;

    my $why_not = Sympa::SMIME::Config->fallback(_config());
    if (not defined $why_not and not($running and $ORIGINAL{$running})) {
        $why_not = 'no function of Sympa to fall back to';
    }
    if (not defined $why_not) {
        my ($module, $loaded) =
            $running eq 'Sympa::Tools::SMIME::parse_cert'
            ? ('Crypt::OpenSSL::X509', $Crypt::OpenSSL::X509::VERSION)
            : ('Crypt::SMIME', $Crypt::SMIME::VERSION);
        $why_not = "$module is not installed" unless $loaded;
    }

    my $how = defined $why_not ? 'closed' : 'fallback';
    unless (($unavailable_said{$how} // 0) == $PID) {
        $unavailable_said{$how} = $PID;
        $log->syslog(
            'err',
            'sympa-smime: the sidecar cannot run (%s); %s until it runs again',
            $error,
            (   defined $why_not
                ? "S/MIME fails closed ($why_not)"
                : "S/MIME goes through Sympa's own functions (Crypt::SMIME)"
            )
        );
    }
    return if defined $why_not;
    $log->syslog('debug', 'Falling back to Sympa\'s own %s', $running);
    die bless {error => $error}, 'Sympa::SMIME::Shim::Fallback';
}

# Calls the sidecar.  Members ending in "_b64" are bytes, in the parameters
# as in the result; @needed members must be in the result.
# Returns the result, or undef and the failure as "reason: detail".
sub _call {
    my $method = shift;
    my $needed = shift;
    my %params = @_;

    my $result = eval {
        foreach my $name (grep {/_b64\z/} keys %params) {
            $params{$name} =
                Sympa::SMIME::Sidecar::encode_bytes($params{$name});
        }
        my $result =
            Sympa::SMIME::Sidecar->instance->call($method, {%params});
        foreach my $name (@$needed) {
            die "no $name in the answer to $method\n"
                unless defined $result->{$name};
        }
        foreach my $name (grep {/_b64\z/} keys %$result) {
            $result->{$name} =
                Sympa::SMIME::Sidecar::decode_bytes($result->{$name});
        }
        $result;
    };
    my $error = $EVAL_ERROR;
    if (ref $result eq 'HASH') {
        if (grep { $_ == $PID } values %unavailable_said) {
            %unavailable_said = ();
            $log->syslog('notice',
                'sympa-smime: the sidecar runs again; S/MIME goes through it'
            );
        }
        return $result;
    }

    if (Scalar::Util::blessed($error) and $error->can('reason')) {
        _cannot_run($error)
            if $error->can('cannot_run')
            and $error->cannot_run;
        return (undef, "$error");
    }
    $error = 'no result' unless defined $error and length $error;
    $error =~ s/\s+\z//;
    return (undef, "internal: $error");
}

# The sidecar's settings (docs/configuration.md), read again on each call
# so that a changed file applies without a restart; {} when they cannot be
# read.
sub _config {
    return eval { Sympa::SMIME::Sidecar->config } || {};
}

# The smime.verify parameters of the crl_path and crl_required settings of
# $config; none when crl_path is unset.
sub _revocation {
    my $config = shift;
    require Sympa::SMIME::Config;
    return Sympa::SMIME::Config->revocation($config);
}

# The algorithm_policy parameter of smime.verify and smime.sign, from the
# settings md5, sha1, dsa, min_rsa_bits, strong_rsa_bits and min_ec_bits of
# $config.
sub _algorithm_policy {
    my $config = shift;
    return Sympa::SMIME::Config->algorithm_policy($config);
}

# Restores into $head every field of $orig_head it lacks, as 6.2.70 does
# after decrypting, encrypting and signing.
sub _restore_fields {
    my $head      = shift;
    my $orig_head = shift;

    my $predefined_headers;
    foreach my $header ($head->tags) {
        $predefined_headers->{lc $header} = 1 if $head->get($header);
    }
    foreach my $header (split /\n(?![ \t])/, $orig_head) {
        next unless $header =~ /^([^\s:]+)\s*:\s*(.*)$/s;
        my ($tag, $val) = ($1, $2);
        $head->add($tag, $val) unless $predefined_headers->{lc $tag};
    }
}

# The header of a message the sidecar returned, as MIME::Parser reads the
# head of its top entity (the same code: process_header()), without reading
# the body.  6.2.70 parsed the whole message and kept only the head; the body
# is kept as a string and Sympa parses it again when it needs the entity
# (as_entity()), so a full parse here cost a pass over the whole message for
# nothing: most of smime_decrypt()'s own time at 2 MB, and the decoding of
# the base64 of every encrypted copy.  Nothing is written to disk.  Returns
# the MIME::Head, or undef and "internal: why".
sub _head {
    my $string = shift;

    my $parser = MIME::Parser->new;
    $parser->output_to_core(1);
    $parser->tmp_to_core(1);
    my $head = eval {
        # As MIME::Parser::parse() sets them.
        local $RS  = "\n";
        local $ORS = undef;
        $parser->init_parse;
        open my $in, '<', \$string or die "cannot read a string: $ERRNO\n";
        $parser->process_header($in, MIME::Parser::Reader->new);
    };
    return $head if $head;
    my $error = $EVAL_ERROR || 'MIME::Parser found no header';
    $error =~ s/\s+\z//;
    return (undef, "internal: the sidecar's answer cannot be parsed: $error");
}

# Keeps 6.2.70: 0 unless the message is application/(x-)pkcs7-mime and not
# signed-data; undef when no key pair is found or none opens the message;
# else the message, its header and body replaced by the decrypted entity, with
# smime_crypted and orig_msg_as_string set.
# Changes: every pair from find_keys() goes in one sidecar call, only the
# header of the decrypted entity is parsed (in memory: 6.2.70 parsed it all,
# with temporary files in tmpdir), and a message that cannot be decrypted
# is marked protected, so it is delivered intact as Sympa's documentation
# says, not decorated; with require_authenticated_encryption, so is one whose
# encryption was not authenticated and that the sender did not sign inside.
sub smime_decrypt {
    return _guard('Sympa::Message::smime_decrypt', \&_smime_decrypt, @_);
}

sub _smime_decrypt {
    $log->syslog('debug2', '(%s)', @_);
    my $self = shift;

    my $content_type = lc($self->{_head}->mime_attr('Content-Type') || '');
    unless (
        (      $content_type eq 'application/pkcs7-mime'
            or $content_type eq 'application/x-pkcs7-mime'
        )
        and ($self->{_head}->mime_attr('Content-Type.smime-type') // '') !~
        /signed-data/i
    ) {
        return 0;
    }

    #FIXME: an empty "context" parameter means mail to sympa@, listmaster@...
    my ($certs, $keys) =
        Sympa::Tools::SMIME::find_keys($self->{context} || '*', 'decrypt');
    unless (defined $certs and @$certs) {
        $log->syslog('err',
            'Unable to decrypt message: file_unreadable: missing certificate file'
        );
        $self->{'protected'} = 1;
        return undef;
    }

    my ($result, $error) = _call(
        'smime.decrypt',
        ['entity_b64'],
        message_b64 => $self->as_string,
        keys        => [
            map { {cert => $certs->[$_], key => $keys->[$_]} } 0 .. $#$certs
        ],
        Sympa::SMIME::Config->sympa_params('key_passwd'),
    );
    unless ($result) {
        $log->syslog('err', 'Message could not be decrypted: %s', $error);
        $self->{'protected'} = 1;
        return undef;
    }
    $log->syslog('debug', 'Decrypted with %s', $result->{cert});

    # CBC (EnvelopedData) is malleable: whoever holds a copy can change
    # blocks of the cleartext (EFAIL), and the list would send the result
    # to every subscriber.  Unless the encryption was authenticated (GCM),
    # only a valid signature of the sender inside says the content is what
    # was sent.
    if (not $result->{authenticated}
        and _config()->{require_authenticated_encryption}) {
        my $sender = Sympa::Tools::Text::canonic_email($self->{'sender'});
        my ($certs, $why) = _signed_by($result->{entity_b64}, $sender);
        unless ($certs) {
            $log->syslog(
                'err',
                'Message could not be decrypted: unauthenticated_encryption: %s is not authenticated and the content is not signed by the sender %s (%s)',
                $result->{content_encryption} // 'the encryption',
                $sender // '(none)',
                $why
            );
            $self->{'protected'} = 1;
            return undef;
        }
    }

    my $msg_string = $result->{entity_b64};
    my $head;
    ($head, $error) = _head($msg_string);
    unless (defined $head) {
        $log->syslog('err', 'Message could not be decrypted: %s', $error);
        $self->{'protected'} = 1;
        return undef;
    }

    my ($dummy, $body_string) = split /(?:\A|\n)\r?\n/, $msg_string, 2;
    _restore_fields($head, $self->header_as_string);

    # Some headers from the initial message should not be restored
    # Content-Disposition and Content-Transfer-Encoding if the result is
    # multipart
    $head->delete('Content-Disposition')
        if $self->get_header('Content-Disposition');
    if (($head->mime_attr('Content-Type') // '') =~ /multipart/i) {
        $head->delete('Content-Transfer-Encoding')
            if $self->get_header('Content-Transfer-Encoding');
    }

    $self->{'smime_crypted'}      = 'smime_crypted';
    $self->{'orig_msg_as_string'} = $self->as_string;
    $self->{_head}                = $head;
    $self->{_body}                = $body_string;
    delete $self->{_entity_cache};    # Clear entity cache.
    $log->syslog('debug', 'Message has been decrypted');

    return $self;
}

# Keeps 6.2.70: the recipient's certificate is ssl_cert_dir/<email>@enc, else
# ssl_cert_dir/<email>; only the MIME-* and Content-* fields are encrypted
# with the body; every other field stays in clear; undef on any failure (so
# Sympa sends x509-user-cert-missing), else the message.
# Changes: cipher and key transport come from the sidecar's configuration, and
# a file holding no usable certificate, expired or not for encryption is
# refused instead of giving an envelope nobody can open.
sub smime_encrypt {
    return _guard('Sympa::Message::smime_encrypt', \&_smime_encrypt, @_);
}

sub _smime_encrypt {
    $log->syslog('debug2', '(%s, %s)', @_);
    my $self  = shift;
    my $email = shift;

    my $msg_header = $self->{_head};

    my $certfile;
    my $base = sprintf '%s/%s',
        $Conf::Conf{'ssl_cert_dir'},
        Sympa::Tools::Text::encode_filesystem_safe($email);
    if (-f $base . '@enc') {
        $certfile = $base . '@enc';
    } else {
        $certfile = $base;
    }
    unless (-r $certfile) {
        $log->syslog(
            'notice',
            'Unable to encrypt message to %s: file_unreadable: missing certificate %s',
            $email,
            $certfile
        );
        return undef;
    }

    # Only the MIME header fields go inside (RFC 2633 3.1).
    my $dup_head = $msg_header->dup();
    foreach my $t ($dup_head->tags()) {
        $dup_head->delete($t) unless $t =~ /^(mime|content)-/i;
    }

    my $config = _config();
    my ($result, $error) = _call(
        'smime.encrypt', ['message_b64'],
        entity_b64 => $dup_head->as_string . "\n" . $self->body_as_string,
        recipients => [{path => $certfile}],
        map      { ($_ => $config->{$_}) }
            grep { defined $config->{$_} } qw(cipher key_transport)
    );
    unless ($result) {
        $log->syslog('err', 'Unable to encrypt message to %s: %s',
            $email, $error);
        return undef;
    }
    my $msg_string = $result->{message_b64};

    my $head;
    ($head, $error) = _head($msg_string);
    unless ($head) {
        $log->syslog('notice', 'Unable to encrypt message to %s: %s',
            $email, $error);
        return undef;
    }

    my ($dummy, $body_string) = split /\n\r?\n/, $msg_string, 2;
    _restore_fields($head, $msg_header->as_string);

    $self->{_head} = $head;
    $self->{_body} = $body_string;
    delete $self->{_entity_cache};    # Clear entity cache.

    return $self;
}

# Keeps 6.2.70: 1 without a list; the list's sign key pair from find_keys();
# only Content-Type and Content-Transfer-Encoding are signed with the body;
# the other fields are restored on the multipart/signed; then
# check_smime_signature() runs; undef on failure, else the message.
# Changes: the signature carries the intermediate certificates found in the
# list's cert.pem and in cafile (6.2.70's "Add intermediate CA certificates"
# FIXME); an expired or unusable list certificate is refused (the message
# then goes unsigned, as after any failure); only the header of the result is
# parsed, in memory, so an unusable tmpdir no longer makes it die.
sub smime_sign {
    return _guard('Sympa::Message::smime_sign', \&_smime_sign, @_);
}

sub _smime_sign {
    $log->syslog('debug2', '(%s)', @_);
    my $self = shift;

    my $list = $self->{context};

    #FIXME
    return 1 unless $list;

    my ($certfile, $keyfile) = Sympa::Tools::SMIME::find_keys($list, 'sign');
    unless ($certfile) {
        $log->syslog('err',
            'Unable to S/MIME sign message: file_unreadable: no key pair');
        return undef;
    }

    # OpenSSL only needs content type & encoding to generate a
    # multipart/signed msg
    my $dup_head = $self->head->dup;
    foreach my $field ($dup_head->tags) {
        next if $field =~ /^(content-type|content-transfer-encoding)$/i;
        $dup_head->delete($field);
    }

    my ($result, $error) = _call(
        'smime.sign', ['message_b64'],
        entity_b64 => $dup_head->as_string . "\n" . $self->body_as_string,
        cert       => $certfile,
        key        => $keyfile,
        Sympa::SMIME::Config->sympa_params('key_passwd', 'cafile'),
        _algorithm_policy(_config()),
    );
    unless ($result) {
        $log->syslog('err', 'Unable to S/MIME sign message: %s', $error);
        return undef;
    }
    my $msg_string = $result->{message_b64};

    my $head;
    ($head, $error) = _head($msg_string);
    unless ($head) {
        $log->syslog('notice', 'Unable to S/MIME sign message: %s', $error);
        return undef;
    }

    _restore_fields($head, $self->header_as_string);

    ## Keeping original message string in addition to updated headers.
    my ($dummy, $body_string) = split /(?:\A|\n)\r?\n/, $msg_string, 2;

    $self->{_head} = $head;
    $self->{_body} = $body_string;
    delete $self->{_entity_cache};    # Clear entity cache.
    $self->check_smime_signature;

    return $self;
}

# The one check of a signature, shared by check_smime_signature() and
# smime_decrypt(): $string (a message or an entity) must verify with
# smime.verify against cafile and capath (and the CRLs of crl_path), what
# MIME-tools reads of $reading (the string Sympa will parse; $string when
# not given) must be what was verified, and a signer certificate must be
# $sender's.  Returns {both, sign or enc => PEM}, the sender's certificates
# by purpose, or undef and why, as "reason: detail" (malformed_input when
# Sympa would read something else, sender_mismatch when no signer is the
# sender).
sub _signed_by {
    my $string  = shift;
    my $sender  = shift;
    my $reading = shift // $string;

    # Read once: every load checks the file and the directories above it.
    my $config = _config();
    my ($result, $error) = _call(
        'smime.verify', ['valid'],
        message_b64 => $string,
        Sympa::SMIME::Config->sympa_params('cafile', 'capath'),
        _revocation($config),
        _algorithm_policy($config),
    );
    unless ($result and $result->{valid}) {
        $error //= sprintf '%s: %s', $result->{reason} // 'internal',
            $result->{detail} // '';
        return (undef, $error);
    }
    if (my $why = _unsigned_reading($reading, $result)) {
        return (undef, "malformed_input: $why");
    }

    # Second step is to check the signer of message matches the sender, and
    # look at the purpose: S/MIME signing and/or S/MIME encryption.
    my %certs;
    my @signers = @{$result->{signers} || []};
    foreach my $i (0 .. $#signers) {
        my $cert = $signers[$i];
        # A sidecar before signers_info needs one x509.parse call each.
        my $parsed =
            $result->{signers_info}
            ? _cert_fields($result->{signers_info}[$i])
            : Sympa::Tools::SMIME::parse_cert(text => $cert);
        next unless $parsed and defined $sender;
        next unless $parsed->{'email'}{$sender};

        if ($parsed->{'purpose'}{'sign'} and $parsed->{'purpose'}{'enc'}) {
            $certs{'both'} = $cert;
            $log->syslog('debug', 'Found a signing + encryption cert');
        } elsif ($parsed->{'purpose'}{'sign'}) {
            $certs{'sign'} = $cert;
            $log->syslog('debug', 'Found a signing cert');
        } elsif ($parsed->{'purpose'}{'enc'}) {
            $certs{'enc'} = $cert;
            $log->syslog('debug', 'Found an encryption cert');
        }
        last if $certs{'both'} or ($certs{'sign'} and $certs{'enc'});
    }
    return (undef, "sender_mismatch: no signer certificate is the sender's")
        unless $certs{both}
        or $certs{sign}
        or $certs{enc};
    return \%certs;
}

# Keeps 6.2.70: 0 unless is_signed(); protected set; undef when the signature
# does not verify or no signer certificate is the sender's; else 1 with
# smime_signed set and the signer's certificate stored as
# ssl_cert_dir/<sender> (signing and encryption), or <sender>@sign and
# <sender>@enc (one purpose each), stale files removed.
# Changes: the sidecar's purpose rules (an EC keyAgreement certificate is one
# for encryption; nonRepudiation alone is enough for signing); a signer
# certificate without keyUsage no longer makes it die; only cafile and capath
# are trusted when one of them is set; the log line gives the reason code;
# with the sidecar setting crl_path, a revoked signer or CA fails (revoked).
sub check_smime_signature {
    return _guard('Sympa::Message::check_smime_signature',
        \&_check_smime_signature, @_);
}

sub _check_smime_signature {
    $log->syslog('debug2', '(%s)', @_);
    my $self = shift;

    return 0 unless $self->is_signed;

    ## Messages that should not be altered (no footer)
    $self->{'protected'} = 1;

    my $sender = Sympa::Tools::Text::canonic_email($self->{'sender'});

    # The string as_entity() parses, which Sympa reads afterwards.
    my ($certs, $error) = _signed_by($self->as_string, $sender,
        $self->{_head}->as_string . "\n" . ($self->{_body} // ''));
    unless ($certs) {
        if ($error =~ /\Asender_mismatch:/) {
            $log->syslog('info',
                '%s: Could not extract certificate for %s: %s',
                $self, $sender, $error);
        } else {
            $log->syslog('info', '%s: Unable to verify S/MIME signature: %s',
                $self, $error);
        }
        return undef;
    }
    my %certs = %$certs;

    # Save them, as email@addr if combined, or as email@addr@sign /
    # email@addr@enc for split certs.
    foreach my $c (keys %certs) {
        my $filename = sprintf '%s/%s', $Conf::Conf{'ssl_cert_dir'},
            Sympa::Tools::Text::encode_filesystem_safe($sender);
        if ($c ne 'both') {
            unlink $filename;    # just in case there's an old cert left...
            $filename .= "\@$c";
        } else {
            unlink("$filename\@enc");
            unlink("$filename\@sign");
        }
        $log->syslog('debug', 'Saving %s cert in %s', $c, $filename);
        my $fh;
        unless (open $fh, '>', $filename) {
            $log->syslog('err',
                'Unable to create certificate file %s: file_unwritable: %m',
                $filename);
            return undef;
        }
        print $fh $certs{$c};
        close $fh;
    }

    $self->{'smime_signed'} = 1;
    $log->syslog('debug3', '%s is signed, signature is checked', $self);
    return 1;
}

# Why what Sympa reads of $string (after check_smime_signature(), or of a
# decrypted entity) is not what the sidecar verified ($result, valid); ''
# when it is.  The signature covers the part the sidecar split out, while
# Sympa acts on the part MIME-tools splits out (get_plain_body() keeps the first part of a
# multipart/signed: signed commands, the smime scenario): when the two
# parsers disagree, a valid signature would vouch for text it never covered.
sub _unsigned_reading {
    my $string = shift;
    my $result = shift;

    my $entity = _parse_encoded($string)
        or return 'MIME-tools cannot parse the message';

    my $type   = lc($entity->effective_type // '');
    my $format = $result->{format} // '';
    if ($format eq 'signed-data') {
        # The content is inside the CMS object: MIME-tools reads none of it.
        return ''
            if $type eq 'application/pkcs7-mime'
            or $type eq 'application/x-pkcs7-mime';
        return "the sidecar verified signed-data, MIME-tools reads $type";
    }
    return "the sidecar verified $format, MIME-tools reads $type"
        unless $format eq 'multipart/signed' and $type eq 'multipart/signed';
    my @parts = $entity->parts;
    return sprintf 'MIME-tools reads %d parts in the multipart/signed, not 2',
        scalar @parts
        unless @parts == 2;
    my $content = $result->{content_b64};
    return 'the sidecar sent no signed content' unless defined $content;

    # content_b64 is the first part with every line break (an LF and the CRs
    # before it) made CRLF, without the one before the delimiter: the form the
    # signature covers.  MIME-tools keeps the line breaks of bodies as
    # received and drops the one before the delimiter too, so the same rule
    # applied to what it read gives content_b64 exactly when both hold the
    # same text: only the spelling of line breaks, which the signature does
    # not cover, is set aside.
    my $read = _crlf($parts[0]->as_string);
    return '' if $read eq $content;

    # MIME::Entity does not print every part back byte for byte (a nested
    # multipart gets a line break after its closing delimiter; a preamble of
    # one empty line is dropped when the line breaks are LF, not when they
    # are CRLF).  So the signed content, parsed by MIME-tools in either
    # spelling, must print as the part read: then Sympa reads the same
    # headers, bodies and structure from both.
    (my $lf = $content) =~ s/\r\n/\n/g;
    foreach my $signed ($content, $lf) {
        my $parsed = _parse_encoded($signed) or next;
        return '' if $read eq _crlf($parsed->as_string);
    }
    return 'the first part MIME-tools reads is not the signed content';
}

# $string parsed as Sympa's as_entity() parses it, but with the bodies left
# encoded: a decoded body would be printed re-encoded (base64 in 76 columns),
# not as it was signed.  Decoding does not move part boundaries.
# Returns the entity, or undef.
sub _parse_encoded {
    my $string = shift;

    my $parser = MIME::Parser->new;
    $parser->output_to_core(1);
    $parser->tmp_to_core(1);
    $parser->decode_bodies(0);
    return eval { $parser->parse_data(\$string) };
}

# Every line break (an LF and the CRs before it) made CRLF.
sub _crlf {
    my $string = shift;
    $string =~ s/\r*\n/\r\n/g;
    return $string;
}

# Keeps 6.2.70: dies without text or file; undef for a missing file or
# anything but a PEM certificate (DER, a key, garbage); else {subject, issuer,
# notAfter, emails, email, purpose} in Crypt::OpenSSL::X509's formats, e-mail
# addresses valid and lower-cased, in the same order, duplicates kept.
# Changes: purpose follows the sidecar's rules (no keyUsage: both; sign is
# digitalSignature or nonRepudiation; enc is keyEncipherment, or keyAgreement
# on an EC key), so certificates without keyUsage or extensions no longer
# make it die.
sub parse_cert {
    return _guard('Sympa::Tools::SMIME::parse_cert', \&_parse_cert, @_);
}

sub _parse_cert {
    my %arg = @_;

    my $pem;
    if ($arg{'text'}) {
        $pem = $arg{'text'};
    } elsif ($arg{'file'}) {
        my $fh;
        open $fh, '<', $arg{'file'} or return undef;
        $pem = do { local $RS; <$fh> };
        close $fh;
    } else {
        die 'bug in logic. Ask developer';
    }
    return undef
        unless defined $pem
        and $pem =~ /^-----BEGIN (?:X509 )?CERTIFICATE-----/m;

    my ($cert, $error) = _call(
        'x509.parse',
        [qw(subject issuer notAfter purpose)],
        pem => $pem
    );
    unless ($cert) {

        # Text that is no certificate is an answer (6.2.70 said nothing);
        # a sidecar that cannot answer is a failure the listmaster must see,
        # as it also refuses TLS client certificates in wwsympa.
        $log->syslog(($error =~ /\Abad_certificate:/ ? 'debug' : 'err'),
            'Unable to parse certificate: %s', $error);
        return undef;
    }

    return _cert_fields($cert);
}

# parse_cert()'s answer from what x509.parse (or smime.verify's signers_info)
# says of a certificate; undef for undef.
sub _cert_fields {
    my $cert = shift;

    return undef unless ref $cert eq 'HASH';
    my @emails =
        map { Sympa::Tools::Text::canonic_email($_) }
        grep { Sympa::Tools::Text::valid_email($_) } @{$cert->{emails} || []};
    return {
        subject  => $cert->{subject},
        notAfter => $cert->{notAfter},
        issuer   => $cert->{issuer},
        emails   => [@emails],
        email    => {map { ($_ => 1) } @emails},
        purpose  => {
            sign => ($cert->{purpose}{sign} ? 1 : ''),
            enc  => ($cert->{purpose}{enc}  ? 1 : ''),
        },
    };
}

# wwsympa.fcgi waits for requests in FCGI's Accept, which fails when a
# signal interrupts it (CGI::Fast asks for FAIL_ACCEPT_ON_INTR), and every
# Sympa program catches SIGCHLD (Sympa::Process): a sidecar leaving after
# idle_timeout would end wwsympa's request loop, and with it the FastCGI
# child.  So SIGCHLD waits while Accept does; Sympa's handler runs once a
# request has come.  SIGTERM still ends the wait (libfcgi's own handler).
sub _fcgi_accept ($) {    # FCGI::Accept's prototype
    require POSIX;
    my $saved = POSIX::SigSet->new;
    POSIX::sigprocmask(POSIX::SIG_BLOCK(),
        POSIX::SigSet->new(POSIX::SIGCHLD()), $saved);
    my $status = $ORIGINAL{'FCGI::Accept'}->(@_);
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), $saved);
    return $status;
}

# Keeps 6.2.70: the list's encryption certificate from find_keys(); 'pem'
# (the default) is left to Sympa's own code; undef and a log line when the
# file cannot be read.
# Changes: 'der' no longer needs Crypt::OpenSSL::X509 (without it 6.2.70
# answers "Unknown certificate format"): the first certificate of the file is
# decoded from its PEM armour, the bytes Crypt::OpenSSL::X509 gave.
sub get_cert {
    my $self   = shift;
    my $format = shift;

    return $ORIGINAL{'Sympa::List::get_cert'}->($self, $format)
        unless defined $format and $format eq 'der';

    my ($certs) = Sympa::Tools::SMIME::find_keys($self, 'encrypt');
    unless (defined $certs) {
        $log->syslog(
            'err', 'Unable to get the certificate of %s: %s',
            $self, 'file_unreadable: no key pair'
        );
        return undef;
    }
    my $fh;
    unless (open $fh, '<', $certs) {
        $log->syslog('err',
            'Unable to open certificate %s: file_unreadable: %m', $certs);
        return undef;
    }
    my $pem = do { local $RS; <$fh> };
    close $fh;

    my ($base64) =
        $pem =~
        /^-----BEGIN (?:X509 )?CERTIFICATE-----\r?\n(.*?)^-----END /ms;
    unless (defined $base64) {
        $log->syslog(
            'err',  'Unable to open certificate %s: %s',
            $certs, 'bad_certificate: no PEM certificate'
        );
        return undef;
    }
    return MIME::Base64::decode_base64($base64);
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Shim - Sympa's S/MIME through the sympa-smime sidecar

=head1 SYNOPSIS

  PERL5LIB=/usr/share/sympa-smime/lib PERL5OPT=-MSympa::SMIME::Shim \
      /usr/lib/sympa/bin/sympa_msg.pl

=head1 DESCRIPTION

Loading this module replaces the S/MIME functions of Sympa 6.2.70, which use
the XS modules Crypt::SMIME and Crypt::OpenSSL::X509, with functions that ask
the sympa-smime sidecar (L<Sympa::SMIME::Sidecar>).  No file of Sympa changes
and neither XS module is needed.

Loading order does not matter.  Sympa modules already loaded are patched at
once; for the others a hook at the front of C<@INC> loads the real module,
then patches it.  Sympa's scripts C<use lib> their library after C<PERL5OPT>
has loaded this module, so C<lib-E<gt>import> puts the hook back in front.
Each function is replaced once; the original is kept in C<%ORIGINAL>.

Every module of the shim is loaded with it, so that the modules removed
while the process runs (C<sympa-smime-disable>, a package removal without a
restart) do not break it.  When the process opens Sympa's log, one line at
C<notice> (C<err> when the jar or java is missing) gives the shim's version,
the program and pid, the jar, java, Sympa's version and what happens if the
sidecar cannot run; a Sympa outside 6.2.70 to 6.2.80 gets a line at C<err>.

When the sidecar cannot run (an error with C<cannot_run>, see
L<Sympa::SMIME::Sidecar/Failures>), the replaced function runs Sympa's
original from C<%ORIGINAL> instead, if Crypt::SMIME (Crypt::OpenSSL::X509 for
parse_cert) is installed and the setting C<fallback> allows it
(L<Sympa::SMIME::Config/fallback>); otherwise it fails as on any failure.
One line at C<err> per process says which, and a C<notice> line when the
sidecar runs again.  A refusal, a timeout or a sidecar dying on a request
never falls back.

The functions keep the 6.2.70 contract (return values, the C<smime_signed>,
C<smime_crypted>, C<orig_msg_as_string> and C<protected> attributes, the way
header and body are replaced, the file names in C<ssl_cert_dir>).  What
changes on purpose is listed in F<docs/differences.md>.  Every failure is
logged on one line with the sidecar's reason code, such as
C<untrusted_chain: ...>.

=head1 FUNCTIONS

These replace the functions of the same name.

=over

=item Sympa::Message::check_smime_signature ( )

Verifies the signature with C<smime.verify> against C<cafile> and C<capath>
(and, when the sympa-smime setting C<crl_path> is set, the CRLs there, see
F<docs/configuration.md>), checks that the first part MIME-tools reads is
the content that was verified, then stores the signer's certificate in
C<ssl_cert_dir>.  Returns 0, 1 or undef.

=item Sympa::Message::smime_decrypt ( )

Decrypts with C<smime.decrypt> and every key pair of C<find_keys()>.
Returns 0, the message, or undef (the message is then left intact and marked
C<protected>).  With the sympa-smime setting
C<require_authenticated_encryption>, content whose encryption was not
authenticated (CBC, not GCM) is refused that way, with the reason
C<unauthenticated_encryption>, unless it is signed by the sender and verifies
as check_smime_signature() requires.

=item Sympa::Message::smime_encrypt ( $email )

Encrypts with C<smime.encrypt> for the certificate of $email in
C<ssl_cert_dir>.  Returns the message or undef.

=item Sympa::Message::smime_sign ( )

Signs with C<smime.sign> and the list's key pair, carrying intermediate
certificates, then calls check_smime_signature().  Returns 1, the message or
undef.

=item Sympa::Tools::SMIME::parse_cert ( C<text> =E<gt> $pem | C<file> =E<gt> $path )

Parses a certificate with C<x509.parse>.  Returns a hashref (C<subject>,
C<issuer>, C<notAfter>, C<emails>, C<email>, C<purpose>) or undef.

=item Sympa::List::get_cert ( [ $format ] )

C<'der'> decodes the list's encryption certificate without
Crypt::OpenSSL::X509; other formats are left to Sympa's own function.

=item FCGI::Accept ( )

Not S/MIME: the same, with C<SIGCHLD> blocked while it waits, so that a
sidecar that exits (C<idle_timeout>) does not end C<wwsympa.fcgi>'s request
loop and its FastCGI child (Sympa catches C<SIGCHLD>, and C<CGI::Fast> fails
an interrupted accept).

=back

=head1 VARIABLES

=over

=item %Sympa::SMIME::Shim::ORIGINAL

The replaced functions, by full name (C<Sympa::Message::smime_sign>, ...).

=back

=head1 SEE ALSO

L<Sympa::SMIME::Sidecar>, F<docs/protocol.md>, F<docs/differences.md>.

=cut
