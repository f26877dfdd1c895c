package Sympa::SMIME::Doctor;

# The checks of sympa-smime-doctor: through the sidecar, what Sympa's S/MIME
# needs: the sidecar, the trust store, the robot's and lists' key pairs, the
# user certificates.  A wrong key_passwd or an expired list certificate
# otherwise only shows as one log line per message.
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

use strict;
use warnings;
use English        qw(-no_match_vars);
use Cwd            qw(abs_path);
use File::Basename qw(basename dirname);
use Getopt::Long   qw(GetOptionsFromArray);
use Scalar::Util   qw(looks_like_number);

use Conf;
use Sympa::Constants;
use Sympa::Log;
use Sympa::Tools::SMIME;
use Sympa::SMIME::Admin qw(become_sympa_user days_left openssl_time);
use Sympa::SMIME::Config;
use Sympa::SMIME::Sidecar;

# Where the Debian package puts docs/*.md.
use constant INSTALLED_DOCS => '/usr/share/doc/sympa-smime';
use constant BATCH          => 200;
use constant PROBE =>
    "Content-Type: text/plain; charset=US-ASCII\n\nsympa-smime-doctor probe\n";

# What to do about a failure, by reason code (docs/protocol.md) and, where
# it differs, by check.
my %HINT = (
    bad_password => 'check key_passwd in sympa.conf: the key does not open '
        . 'with it (it may use another password)',
    no_password => 'the key is encrypted but key_passwd is not set in '
        . 'sympa.conf: set it to the key\'s password',
    key_mismatch =>
        'the private key does not belong to the certificate: install the matching pair',
    expired       => 'renew the certificate',
    not_yet_valid => 'check the system clock and the certificate\'s dates',
    wrong_usage   =>
        'the certificate\'s keyUsage / extendedKeyUsage forbid S/MIME signing '
        . '(digitalSignature or nonRepudiation, and emailProtection, are needed)',
    untrusted_chain => 'add the issuing CA to cafile or capath, and any '
        . 'intermediate CA to cert.pem (after the certificate) or cafile',
    file_unreadable =>
        'check that the file exists and that the sympa user can read it',
    bad_certificate        => 'the file holds no usable PEM certificate',
    malformed_input        => 'the key file holds no usable PEM private key',
    trust_store_unreadable =>
        'check cafile and capath in sympa.conf: readable, with PEM certificates',
    unsupported_algorithm =>
        'check cipher and key_transport in sympa-smime.conf, and the key type',
    no_matching_key =>
        'the key pair cannot open mail encrypted to its certificate',
    no_recipients => 'the certificate cannot receive encrypted mail',
    timeout       =>
        'the sidecar did not answer in time: see timeout in sympa-smime.conf',
    # The sidecar's stderr reaches Sympa's log, which only --verbose shows.
    internal => 'a bug, to report: with --verbose, the sidecar\'s stack '
        . 'trace, if any, is on stderr',
    config            => 'fix sympa.conf',
    expiring          => 'renew the certificate before it expires',
    user_certificates =>
        'expired certificates are replaced when their owners '
        . 'send a signed message; unparsable files can be removed',
);
my %CHECK_HINT = (
    smime_config => {
        config =>
            'fix the file or the environment variable: the settings are '
            . 'described in '
            . doc('configuration.md')
    },
    verify => {
        file_unreadable => 'check crl_path in sympa-smime.conf: every '
            . 'signature check fails while it cannot be read',
    },
    decrypt => {
        wrong_usage =>
            'the certificate\'s keyUsage forbids encryption: it cannot be in a decrypt pair'
    },
);

my @checks;
my $secret;    # key_passwd, scrubbed from anything we print.
# The store the sidecar trusts when cafile and capath are unset, as its
# service.version says.
my $system_store;

# The lines of check_trust_store() that say cafile or capath is broken
# ({cafile => index in @checks}), and where its lines end: the failures a
# broken store causes later are told there, once, not against each key
# pair.
my %broken_store;
my $trust_end;

my %opt;

# The command: its arguments in, its exit status out.
sub run {
    my @arguments = @_;
    %opt          = (days => 30);
    @checks       = ();
    %broken_store = ();
    undef $secret;
    undef $trust_end;
    undef $system_store;
    GetOptionsFromArray(
        \@arguments, \%opt,       'config|f=s', 'json',
        'days=i',    'keep-user', 'verbose',    'quiet|q',
        'help|h'
    ) or return usage(2);
    return usage(0) if $opt{help};
    return usage(2)
        if @arguments
        or $opt{days} < 0
        or ($opt{quiet} and $opt{verbose});
    return main();
}

sub usage {
    my $status = shift;
    my $fh     = $status ? \*STDERR : \*STDOUT;
    print $fh <<'EOF';
usage: sympa-smime-doctor [--config FILE] [--json] [--days N] [--keep-user]
                          [--verbose | --quiet]

Checks sympa-smime.conf, the sidecar, cafile/capath, the robot's and every
list's S/MIME key files and pairs and ssl_cert_dir, and prints one line per
check: ok, warn or FAIL, with the reason and what to do.
--quiet prints only the warn and FAIL lines, for cron.
Exit status: 0 nothing FAILs (with --quiet: nothing warns either), 1 a check
FAILs (with --quiet: or warns), 2 a wrong option.
See "man sympa-smime-doctor" or "perldoc sympa-smime-doctor".
EOF
    return $status;
}

sub main {
    my $log = Sympa::Log->instance;

    my $config = $opt{config};
    $config             = abs_path($config) // $config if defined $config;
    $Conf::sympa_config = $config;    # as Sympa::CLI does
    my ($loaded, @said) = load_sympa_conf($config);
    my $file = Conf::get_sympa_conf();
    unless ($loaded) {
        add('fail', 'config', undef, 'config',
            join('; ', "cannot load $file", @said),
            hint => $HINT{config}
        );
        return finish();
    }
    $secret = $Conf::Conf{key_passwd};
    $secret = undef unless defined $secret and length $secret;

    # Sympa's log goes to stderr while no syslog is opened.  The sidecar's
    # complaints come back as reason codes, so keep stderr for --verbose.
    $log->{level} = -1 unless $opt{verbose};

    my $user   = switch_user();
    my $detail = "$file loaded";
    $detail .= ", running as $user" if $user;
    $detail .= '; key_passwd ' . ($secret ? 'set' : 'not set');
    add('ok', 'config', undef, undef, $detail);
    add('warn', 'config', undef, 'config', $_,
        hint => 'Sympa loaded its configuration, but not all of it as '
            . 'written: fix sympa.conf or the robot.conf named')
        foreach @said;

    check_smime_config() or return finish();
    check_sidecar()      or return finish();
    check_trust_store();
    $trust_end = @checks;
    my $robot_dir = $Conf::Conf{home} . '/sympa';
    my (undef, $error, $missing) = open_dir($robot_dir);
    add('fail', 'keys', undef, 'file_unreadable',
        "robot keys in $robot_dir: $error",
        hint => $HINT{file_unreadable}
    ) if $error and not $missing;
    my @sets  = (key_set('robot', $robot_dir, '*'));
    my @lists = find_lists();

    foreach my $list (@lists) {
        push @sets,
            key_set("list $list->{name}\@$list->{domain}",
            $list->{dir}, $list);
    }
    my @with_keys  = grep { $_->{sign} or @{$_->{decrypt}} } @sets;
    my $robot_keys = grep { $_ == $sets[0] } @with_keys;
    my $halves     = grep { $_ != $sets[0] and @{$_->{halves}} } @sets;
    $detail = sprintf '%d list%s, %d with keys', scalar @lists,
        (@lists == 1 ? '' : 's'), @with_keys - $robot_keys;
    $detail .= ", $halves with half a key pair" if $halves;
    $detail .= sprintf '; %s in %s',
        ($robot_keys ? 'robot keys' : 'no robot keys'), $sets[0]{dir};
    add('ok', 'keys', undef, undef, $detail);
    check_keys(@sets);
    check_user_certificates();
    return finish();
}

# Conf::load(), with what it says on stderr (while no syslog is opened,
# Sympa's log goes there) kept as lines to print as ours: a typo in
# sympa.conf is then on the doctor's own line, in --json too.  Returns
# whether it loaded, then its error lines.
sub load_sympa_conf {
    my $config = shift;
    my $said   = '';
    my ($loaded, $died);
    {
        # Another handle under the name, for the time of the load: fd 2
        # stays open, so nothing Conf::load() opens can take its number.
        local *STDERR;
        open STDERR, '>', \$said or die "cannot capture stderr: $ERRNO\n";
        $loaded = eval { Conf::load($config, 'no_db') };
        $died   = $EVAL_ERROR;
        close STDERR;
    }
    print STDERR $said if $opt{verbose};
    my @lines;

    foreach my $line (split /\n/, $said) {
        # "err Conf::load() Errors while parsing ...": the level, the
        # function, the message.
        next unless $line =~ s/\Aerr\s+(?:\S+\(\)\s*)?//;
        push @lines, $line;
    }
    if ($died) {
        $died =~ s/\s+\z//;
        push @lines, $died;
    }
    return ($loaded, @lines);
}

# sympa-smime.conf and the SYMPA_SMIME_* variables, read by the code that
# reads them for Sympa.  False when the file cannot be trusted: no sidecar
# will start.
sub check_smime_config {
    my $config = Sympa::SMIME::Sidecar->instance->config;
    my $file   = $config->{config_file};
    if (defined $config->{error}) {
        add('fail', 'smime_config', undef, 'config', $config->{error},
            hint => "make $file (and the directories above it) owned and "
                . 'writable by root only; see '
                . doc('configuration.md'));
        return 0;
    }
    add('warn', 'smime_config', undef, 'config', $_,
        hint => hint('smime_config', 'config'))
        foreach @{$config->{problems}};
    return 1 if @{$config->{problems}};

    my %from;
    foreach my $key (Sympa::SMIME::Config->keys_in_order) {
        my $source = $config->{sources}{$key};
        push @{$from{$source}},
            ($source eq 'env' ? Sympa::SMIME::Config->env_name($key) : $key);
    }
    my @detail = (-e $file ? "$file read" : "$file does not exist");
    push @detail, 'set there: ' . join ', ', @{$from{file}} if $from{file};
    push @detail, 'from the environment: ' . join ', ', @{$from{env}}
        if $from{env};
    push @detail,
        (($from{file} or $from{env}) ? 'the rest' : 'every setting')
        . ' by default'
        if $from{default};
    add('ok', 'smime_config', undef, undef, join '; ', @detail);
    return 1;
}

# As Sympa's own command-line programs: run as the sympa user when started
# as root, so that files sympa cannot read show up as unreadable.
sub switch_user {
    return undef if $opt{'keep-user'};
    my $name = eval { become_sympa_user() };
    die "sympa-smime-doctor: $EVAL_ERROR" if $EVAL_ERROR;
    return $name;
}

sub check_sidecar {
    my $sidecar = Sympa::SMIME::Sidecar->instance;
    my $config  = $sidecar->config;
    my $version = eval { $sidecar->call('service.version', {}) };
    unless ($version) {
        my $error = $EVAL_ERROR;
        add_error('sidecar', undef, $error,
            "$config->{java} -jar $config->{jar}");
        $checks[-1]{hint} = sidecar_hint($error, $config)
            if $checks[-1]{reason} eq 'sidecar_unavailable';
        return 0;
    }
    my $detail = sprintf '%s %s (protocol %s), Java %s, Bouncy Castle %s',
        map { $_ // '?' }
        @{$version}{qw(name version protocol java bouncycastle)};
    $system_store = $version->{system_trust_store};
    add('ok', 'sidecar', undef, undef,
        "$detail; $config->{java} -jar $config->{jar}");
    return 1;
}

# What to do when the sidecar does not start, from what Sidecar.pm found:
# which of java, the jar and the JVM failed, and whether it said anything.
sub sidecar_hint {
    my ($error, $config) = @_;
    my $message =
        (ref $error and $error->can('message')) ? $error->message : "$error";
    my $set = sub {
        my $key = shift;
        return sprintf 'set %s in %s or %s', $key, $config->{config_file},
            Sympa::SMIME::Config->env_name($key);
    };
    my $hint;
    if ($message =~ /\Ajava not found/) {
        $hint = 'install a Java 17 runtime (default-jre-headless), or '
            . $set->('java');
    } elsif ($message =~ /\Ajar not found/) {
        $hint = 'install sympa-smime.jar, or ' . $set->('jar');
    } elsif ($message =~ /\Ajava_opts cannot be parsed/) {
        $hint = 'fix the quotes of java_opts';
    } elsif ($message =~ /\Acannot start /) {
        $hint = "$config->{java} cannot be run: check that it is a Java 17 "
            . 'runtime and that the sympa user may execute it';
    } elsif ($message =~ /last stderr: /) {
        $hint = 'the sidecar ran and stopped: its last words (stderr) are in '
            . 'the message';
    } else {
        $hint = 'the sidecar ran and stopped without a word: run '
            . "$config->{java} -version, and the doctor with --verbose";
    }
    return "$hint; see " . doc('install.md');
}

sub check_trust_store {
    my %store = Sympa::SMIME::Config->sympa_params('cafile', 'capath');
    unless (%store) {
        my $count  = () = pem_blocks(slurp($system_store // '') // '');
        my $detail = sprintf 'cafile and capath not set: the system store %s',
            $system_store // '(not named by this sidecar)';
        if ($count) {
            add('ok', 'trust', undef, undef,
                "$detail ($count certificates) is trusted");
        } else {
            add('fail', 'trust', undef, 'trust_store_unreadable',
                "$detail holds no certificate");
        }
        return;
    }
    if (defined $store{cafile}) {
        my $content = slurp($store{cafile});
        if (not defined $content) {
            add('fail',
                'trust',
                undef,
                'trust_store_unreadable',
                "cafile $store{cafile}: $ERRNO",
                hint => $HINT{trust_store_unreadable}
            );
            $broken_store{cafile} = $#checks;
        } else {
            trust_summary('cafile', $store{cafile}, [pem_blocks($content)],
                0);
        }
    }
    if (defined $store{capath}) {
        my $dir = $store{capath};
        my $dh;
        if (not -d $dir or not opendir $dh, $dir) {
            my $why = -d $dir ? "$ERRNO" : 'not a directory';
            add('fail', 'trust', undef, 'trust_store_unreadable',
                "capath $dir: $why",
                hint => $HINT{trust_store_unreadable}
            );
            $broken_store{capath} = $#checks;
        } else {
            my @files = grep {-f} map {"$dir/$_"}
                sort grep { !/\A\./ } readdir $dh;
            closedir $dh;
            my @pems;
            my $other = 0;
            foreach my $file (@files) {
                my @found = pem_blocks(slurp($file) // '');
                $other++ unless @found;
                push @pems, @found;
            }
            trust_summary('capath', $dir, \@pems, $other);
        }
    }
    return;
}

# Trust anchors are the self-signed certificates of the store.  Links made
# by c_rehash name the same certificate twice.
sub trust_summary {
    my ($name, $path, $pems, $other) = @_;
    my $what    = "$name $path";
    my @answers = batch(map { ['x509.parse', {pem => $_}] } @$pems);
    my (%seen, $anchors, @expired, $bad);
    $anchors = $bad = 0;
    foreach my $answer (@answers) {
        my $cert = $answer->{result};
        unless ($cert) {
            $bad++;
            next;
        }
        next       if $seen{$cert->{fingerprint_sha256} // ''}++;
        $anchors++ if $cert->{subject} eq $cert->{issuer};
        my $days = days_left($cert->{notAfter});
        push @expired, $cert->{subject} if defined $days and $days < 0;
    }
    my $count  = keys %seen;
    my $detail = sprintf '%s: %d certificate%s, %d trust anchor%s', $what,
        $count, ($count == 1 ? '' : 's'), $anchors,
        ($anchors == 1 ? '' : 's');
    $detail .= ", $other file(s) without certificate" if $other;
    $detail .= ", $bad unparsable certificate(s)"     if $bad;
    if (not $count) {
        add('fail', 'trust', undef, 'trust_store_unreadable',
            "$detail: nothing is trusted",
            hint => $HINT{trust_store_unreadable}
        );
        $broken_store{$name} = $#checks;
    } elsif (not $anchors) {
        add('fail',
            'trust',
            undef,
            'untrusted_chain',
            "$detail: no self-signed certificate, so nothing is trusted",
            hint => 'add the root CA certificates'
        );
    } elsif (@expired) {
        add('warn',
            'trust',
            undef,
            'expired',
            sprintf('%s; expired: %s', $detail, join '; ', @expired),
            hint => 'remove or replace the expired CA certificates'
        );
    } elsif ($bad) {
        add('warn', 'trust', undef, 'bad_certificate', $detail,
            hint => 'remove the unparsable certificates');
    } else {
        add('ok', 'trust', undef, undef, $detail);
    }
    return;
}

# The lists, from their directories as Sympa::List::get_lists() finds them
# when it does not use the database (the doctor must work without it).
sub find_lists {
    my $home   = $Conf::Conf{home};
    my $domain = $Conf::Conf{domain};
    my %robots = map { $_ => 1 } $domain, @{Conf::get_robots_list() || []};
    my @lists;
    foreach my $robot (sort keys %robots) {
        my $dir = "$home/$robot";
        my ($dh, $error, $missing) = open_dir($dir);
        ($dh, $error, $missing) = open_dir($dir = $home)
            if $missing and $robot eq $domain;
        next if $missing;
        unless ($dh) {
            add('fail', 'keys', undef, 'file_unreadable',
                "the lists of $robot in $dir: $error",
                hint => $HINT{file_unreadable}
            );
            next;
        }
        foreach my $name (sort readdir $dh) {
            next if $name =~ /\A\./ or not -f "$dir/$name/config";
            push @lists,
                {name => $name, domain => $robot, dir => "$dir/$name"};
        }
        closedir $dh;
    }
    return @lists;
}

# A directory handle, or undef, why, and whether the directory is simply
# missing: one the sympa user cannot enter is not "missing".
sub open_dir {
    my $dir = shift;
    my $dh;
    return $dh if opendir $dh, $dir;
    my $missing = $ERRNO{ENOENT} ? 1 : 0;
    return (undef, "$ERRNO", $missing);
}

# The key pairs Sympa uses for a list (or the robot, $that '*'), as
# Sympa::Tools::SMIME::find_keys() finds them.
sub key_set {
    my ($subject, $dir, $that) = @_;
    # find_keys() reads nothing of a Sympa::List but its directory.  A real
    # one would load the list's config (taking its lock, writing config.bin
    # when cache_list_config says so) and need the database: the doctor
    # stays read-only and works without the database, so it hands
    # find_keys() just that directory, under the class it checks for.
    $that = bless {%$that}, 'Sympa::List' if ref $that;
    my ($sign_cert, $sign_key) =
        Sympa::Tools::SMIME::find_keys($that, 'sign');
    my ($certs, $keys) = Sympa::Tools::SMIME::find_keys($that, 'decrypt');
    return {
        subject => $subject,
        dir     => $dir,
        sign => ($sign_cert ? {cert => $sign_cert, key => $sign_key} : undef),
        decrypt => [
            map { {cert => $certs->[$_], key => $keys->[$_]} }
                0 .. $#{$certs || []}
        ],
        key_files($dir),
    };
}

# The private keys of a key directory (every private_key* file: find_keys()
# tries them all), and the halves of the pairs Sympa looks for: a
# certificate without its key or a key without its certificate, which
# find_keys() drops without a word.
sub key_files {
    my $dir = shift;
    my ($dh) = open_dir($dir);
    return (keys => [], halves => []) unless $dh;
    my %present = map { ($_ => 1) } grep { -f "$dir/$_" } readdir $dh;
    closedir $dh;
    my @halves;
    foreach my $ext ('', '.sign', '.enc') {
        my ($cert, $key) = ("cert.pem$ext", "private_key$ext");
        push @halves, [$cert, $key] if $present{$cert} and not $present{$key};
        push @halves, [$key, $cert] if $present{$key} and not $present{$cert};
    }
    return (
        keys   => [map {"$dir/$_"} sort grep {/\Aprivate_key/} keys %present],
        halves => \@halves,
    );
}

# Each phase is one batch through the sidecar, for all key sets at once.
sub check_keys {
    my @sets = @_;
    return unless @sets;
    my %passwd  = Sympa::SMIME::Config->sympa_params('key_passwd');
    my %signing = Sympa::SMIME::Config->sympa_params('cafile');
    my $config  = Sympa::SMIME::Sidecar->instance->config;
    # As the shim checks signatures: with the CRLs of crl_path, if set.
    my %trust = (
        Sympa::SMIME::Config->sympa_params('cafile', 'capath'),
        (   (defined $config->{crl_path} and length $config->{crl_path})
            ? ( crls => $config->{crl_path},
                ($config->{crl_required} ? (crl_required => \1) : ())
                )
            : ()
        ),
    );
    my %policy = map { ($_ => $config->{$_}) }
        grep { defined $config->{$_} } qw(cipher key_transport);
    my $probe = Sympa::SMIME::Sidecar::encode_bytes(PROBE);

    # Certificates: dates and purposes.
    my %cert_of;
    foreach my $set (@sets) {
        $cert_of{$_->{cert}} = undef
            foreach grep {defined} $set->{sign}, @{$set->{decrypt}};
    }
    my @paths  = sort keys %cert_of;
    my @parsed = batch(map { ['x509.parse', {path => $_}] } @paths);
    @cert_of{@paths} = @parsed;

    # Signing, as Sympa::Message::smime_sign() does, then verifying that
    # signature as check_smime_signature() does.
    my @signers = grep { $_->{sign} } @sets;
    my @sign    = map {
        {   entity_b64 => $probe,
            cert       => $_->{sign}{cert},
            key        => $_->{sign}{key},
            %passwd
        }
    } @signers;
    my @signed = batch(map { ['smime.sign', {%$_, %signing}] } @sign);

    # smime.sign takes intermediates from cafile; one it cannot read is
    # skipped with a warning (the list signs without them), told once, as
    # the trust store's.
    if (%signing and exists $broken_store{cafile}) {
        my ($warning) = grep {defined}
            map { @{($_->{result} || {})->{warnings} || []} } @signed;
        trust_consequence('cafile',
            "Sympa signs list mail without it (smime.sign: $warning)")
            if defined $warning;
    }
    my @verified = batch(
        map {
            $_->{result}
                ? [
                'smime.verify',
                {message_b64 => $_->{result}{message_b64}, %trust}
                ]
                : ()
        } @signed
    );
    my %sign_of;
    foreach my $i (0 .. $#signers) {
        $sign_of{$signers[$i]} = {
            sign => $signed[$i],
            ($signed[$i]{result} ? (verify => shift @verified) : ())
        };
    }

    # Decryption: a probe encrypted to each pair's certificate, at a time
    # it is valid (its expiry has a check of its own), opened with that
    # pair alone.
    my @pairs;
    foreach my $set (@sets) {
        foreach my $pair (@{$set->{decrypt}}) {
            my $cert = $cert_of{$pair->{cert}}{result};
            # A pair for signing only is not a recipient: Sympa just tries
            # it in vain.
            next if $cert and not $cert->{purpose}{enc};
            push @pairs, [$set, $pair, valid_time($cert)];
        }
    }
    my @encrypted = batch(
        map {
            [   'smime.encrypt',
                {   entity_b64 => $probe,
                    recipients => [{path => $_->[1]{cert}}],
                    %policy,
                    (defined $_->[2] ? (at_time => $_->[2]) : ())
                }
            ]
        } @pairs
    );
    my @decrypted = batch(
        map {
            $encrypted[$_]{result}
                ? [
                'smime.decrypt',
                {   message_b64 => $encrypted[$_]{result}{message_b64},
                    keys        => [$pairs[$_][1]],
                    %passwd
                }
                ]
                : ()
        } 0 .. $#pairs
    );
    my %decrypt_of;
    foreach my $i (0 .. $#pairs) {
        my ($set, $pair) = @{$pairs[$i]};
        my $answer =
            $encrypted[$i]{result} ? shift @decrypted : $encrypted[$i];
        if ($answer->{result}
            and Sympa::SMIME::Sidecar::decode_bytes(
                $answer->{result}{entity_b64}
            ) !~ /sympa-smime-doctor probe/
        ) {
            $answer = {
                error => Sympa::SMIME::Sidecar::Error->new(
                    reason  => 'internal',
                    message => 'the probe came back different'
                )
            };
        }
        push @{$decrypt_of{$set}}, [$pair, $answer];
    }

    # smime.verify reads cafile and capath for every message.
    my @unreadable = grep { trust_error($_->{verify}) } values %sign_of;
    trust_consequence(
        (exists $broken_store{cafile} ? 'cafile' : 'capath'),
        sprintf 'no signature can be checked (smime.verify: %s)',
        $unreadable[0]{verify}{error}->message
    ) if @unreadable;

    foreach my $set (@sets) {
        report_files($set);
        report_set($set, $sign_of{$set}, $decrypt_of{$set} || [], \%cert_of)
            if $set->{sign}
            or @{$set->{decrypt}};
    }
    return;
}

# What a broken trust store does to mail, on the line that says it is
# broken: it is the store that needs fixing, not each key pair.
sub trust_consequence {
    my ($name, $consequence) = @_;
    if (defined(my $index = $broken_store{$name})) {
        $checks[$index]{detail} .= "; $consequence";
        return;
    }
    # Broken in a way only the sidecar sees.
    add('fail', 'trust', undef, 'trust_store_unreadable',
        trusted() . ": $consequence",
        hint => $HINT{trust_store_unreadable}
    );
    splice @checks, $trust_end, 0, pop @checks;
    $broken_store{$name} = $trust_end++;
    return;
}

sub trust_error {
    my $answer = shift or return 0;
    my $error  = $answer->{error};
    return (    ref $error
            and $error->can('reason')
            and $error->reason eq 'trust_store_unreadable') ? 1 : 0;
}

# "the list signs with ... and decrypts with 1 pair": what Sympa does with
# the complete pairs of a key directory.
sub what_it_uses {
    my $set   = shift;
    my $who   = $set->{subject} eq 'robot' ? 'the robot' : 'the list';
    my $count = @{$set->{decrypt}};
    return sprintf '%s %s and %s', $who,
        (
        $set->{sign}
        ? 'signs with ' . pair_name($set, $set->{sign})
        : 'does not sign'
        ),
        (
        $count
        ? sprintf('decrypts with %d pair%s',
            $count, ($count == 1 ? '' : 's'))
        : 'cannot decrypt'
        );
}

# Who, besides root and Sympa's user (and the user we run as, when it is
# neither), can read a private key, or undef.  A group counts by its
# members: Debian's sympa group holds only the sympa user, but an
# administrator who adds www-data to it gives the keys to the web server;
# a group of nobody else is harmless, whatever its name.
sub key_readers {
    my $file = shift;
    my @stat = stat $file or return undef;
    my ($mode, $uid, $gid) = @stat[2, 4, 5];
    my %trusted = map { ($_ => 1) } trusted_users();
    my $user    = getpwuid($uid) // $uid;
    my $perm    = sprintf 'mode %04o', $mode & 07777;
    return "readable by everyone ($perm)" if $mode & 0004;
    return "owned by $user, who can read it (and change its mode)"
        unless $trusted{$user};
    return undef unless $mode & 0040;
    my ($group, $members) = (getgrgid $gid)[0, 3];
    my %members = map { ($_ => 1) } split ' ', $members // '';
    setpwent;

    while (my @entry = getpwent) {
        $members{$entry[0]} = 1 if $entry[3] == $gid;
    }
    endpwent;
    my @others = sort grep { !$trusted{$_} } keys %members;
    return undef unless @others;
    return sprintf 'readable by its group %s (%s), so by %s', $group // $gid,
        $perm, join ', ', @others;
}

sub trusted_users {
    return grep {defined} 'root', Sympa::Constants::USER(),
        scalar getpwuid $EUID;
}

# Each half of a key pair, and who else can read each private key.
sub report_files {
    my $set     = shift;
    my $subject = $set->{subject};
    foreach my $half (@{$set->{halves}}) {
        my ($have, $missing) = @$half;
        my $uses =
              $have =~ /\.sign\z/ ? 'sign'
            : $have =~ /\.enc\z/  ? 'decrypt'
            :                       'sign or decrypt';
        add('fail',
            'pairs',
            $subject,
            'half_pair',
            "$set->{dir}/$have has no $missing beside it: Sympa does not "
                . "$uses with it, and says nothing; "
                . what_it_uses($set),
            hint => "install $missing (the other half of the pair), or "
                . "remove $have"
        );
    }
    my @exposed;
    foreach my $key (@{$set->{keys}}) {
        my $who = key_readers($key) // next;
        push @exposed, $key;
        add('fail',
            'permissions',
            $subject,
            'key_exposed',
            "$key: $who",
            hint => sprintf(
                'make it owned by %s:%s, mode 0600 (chown, chmod)',
                Sympa::Constants::USER(), Sympa::Constants::GROUP()
            )
        );
    }
    my %readers = map { ($_ => 1) } trusted_users();
    add('ok',
        'permissions',
        $subject,
        undef,
        sprintf '%d private key%s readable only by %s',
        scalar @{$set->{keys}},
        (@{$set->{keys}} == 1 ? '' : 's'),
        join ' and ',
        sort keys %readers
    ) if @{$set->{keys}} and not @exposed;
    return;
}

sub report_set {
    my ($set, $sign, $decrypts, $cert_of) = @_;
    my $subject = $set->{subject};

    if (my $pair = $set->{sign}) {
        my $what = pair_name($set, $pair);
        if (my $error = $sign->{sign}{error}) {
            add_error('sign', $subject, $error, $what);
        } else {
            my $count = $sign->{sign}{result}{certificates} // 0;
            add('ok', 'sign', $subject, undef,
                sprintf '%s sign (%d certificate%s in the signature%s)',
                $what, $count,
                ($count == 1 ? '' : 's'),
                (   @{$sign->{sign}{result}{warnings} || []}
                    ? '; ' . join '; ',
                    @{$sign->{sign}{result}{warnings}}
                    : ''
                )
            );
            my $verify = $sign->{verify};
            if (trust_error($verify)) {
                # Told once, on the trust line.
            } elsif ($verify->{error}) {
                add_error('verify', $subject, $verify->{error},
                    $pair->{cert});
            } elsif ($verify->{result}{valid}) {
                add('ok', 'verify', $subject, undef,
                    sprintf '%s: the signature verifies against %s',
                    $pair->{cert}, trusted());
            } else {
                my $reason = $verify->{result}{reason} // 'internal';
                add('fail', 'verify', $subject, $reason,
                    sprintf('%s: %s',
                        $pair->{cert},
                        $verify->{result}{detail} // 'invalid signature'),
                    hint => hint('verify', $reason)
                );
            }
        }
    } else {
        add('warn',
            'sign',
            $subject,
            'file_unreadable',
            "no cert.pem + private_key pair for signing in $set->{dir}",
            hint => 'install cert.pem and private_key (or cert.pem.sign and '
                . 'private_key.sign)'
        );
    }

    if (@$decrypts) {
        foreach my $entry (@$decrypts) {
            my ($pair, $answer) = @$entry;
            my $what = pair_name($set, $pair);
            if ($answer->{error}) {
                add_error('decrypt', $subject, $answer->{error}, $what);
            } else {
                add('ok',
                    'decrypt',
                    $subject,
                    undef,
                    sprintf
                        '%s open a probe encrypted to the certificate (%s)',
                    $what,
                    $answer->{result}{content_encryption} // '?'
                );
            }
        }
    } else {
        add('warn',
            'decrypt',
            $subject,
            'no_matching_key',
            "no key pair whose certificate allows encryption in $set->{dir}: "
                . 'mail encrypted to it cannot be read',
            hint => 'install cert.pem and private_key (or cert.pem.enc and '
                . 'private_key.enc)'
        );
    }

    my %done;
    foreach my $path (
        grep { !$done{$_}++ }
        map { $_->{cert} } grep {defined} $set->{sign},
        @{$set->{decrypt}}
    ) {
        report_expiry('expiry', $subject, $path, $cert_of->{$path});
    }
    return;
}

sub report_expiry {
    my ($check, $subject, $file, $answer) = @_;
    if ($answer->{error}) {
        add_error($check, $subject, $answer->{error}, $file);
        return;
    }
    my $cert   = $answer->{result};
    my $days   = days_left($cert->{notAfter});
    my $starts = days_left($cert->{notBefore});
    my $when   = "$file ($cert->{subject})";
    if (not defined $days) {
        add('warn', $check, $subject, 'bad_certificate',
            "$when: unreadable notAfter");
    } elsif ($days < 0) {
        add('fail', $check, $subject, 'expired',
            "$when expired on $cert->{notAfter}",
            hint => $HINT{expired}
        );
    } elsif (defined $starts and $starts > 0) {
        add('fail', $check, $subject, 'not_yet_valid',
            "$when is valid from $cert->{notBefore}",
            hint => $HINT{not_yet_valid}
        );
    } elsif ($days < $opt{days}) {
        add('warn', $check, $subject, 'expiring',
            "$when expires in $days day(s), on $cert->{notAfter}",
            hint => $HINT{expiring},
            days => $days
        );
    } else {
        add('ok', $check, $subject, undef,
            "$when expires in $days days, on $cert->{notAfter}",
            days => $days
        );
    }
    return;
}

sub check_user_certificates {
    my $dir = $Conf::Conf{ssl_cert_dir};
    my ($dh, $error, $missing) = open_dir($dir);
    if ($missing) {
        add('warn',
            'user_certificates',
            undef,
            'file_unreadable',
            "ssl_cert_dir $dir does not exist",
            hint => 'Sympa creates it when it starts; check ssl_cert_dir'
        );
        return;
    } elsif (not $dh) {
        add('fail', 'user_certificates', undef, 'file_unreadable',
            "ssl_cert_dir $dir: $error",
            hint => $HINT{file_unreadable}
        );
        return;
    }
    my @files = grep { !/\A\./ and -f "$dir/$_" } sort readdir $dh;
    closedir $dh;

    my @answers = batch(map { ['x509.parse', {path => "$dir/$_"}] } @files);
    my %found   = map { $_ => [] } qw(valid expired expiring unparsable);
    foreach my $i (0 .. $#files) {
        my $cert = $answers[$i]{result};
        my $days = $cert && days_left($cert->{notAfter});
        my $kind =
              !defined $days     ? 'unparsable'
            : $days < 0          ? 'expired'
            : $days < $opt{days} ? 'expiring'
            :                      'valid';
        push @{$found{$kind}}, $files[$i];
    }
    my $detail = sprintf
        'ssl_cert_dir %s: %d file%s: %d valid, %d expired, %d expire within %d days, %d unparsable',
        $dir, scalar @files, (@files == 1 ? '' : 's'),
        scalar @{$found{valid}}, scalar @{$found{expired}},
        scalar @{$found{expiring}}, $opt{days}, scalar @{$found{unparsable}};
    if ($opt{verbose}) {
        foreach my $kind (qw(expired expiring unparsable)) {
            $detail .= sprintf '; %s: %s', $kind, join ', ', @{$found{$kind}}
                if @{$found{$kind}};
        }
    }
    my $bad = @{$found{expired}} || @{$found{unparsable}};
    add(($bad ? 'warn' : 'ok'),
        'user_certificates',
        undef,
        (   $bad
            ? (@{$found{unparsable}} ? 'bad_certificate' : 'expired')
            : undef
        ),
        $detail,
        ($bad ? (hint => $HINT{user_certificates}) : ()),
        files => {map { ($_ => $found{$_}) } keys %found}
    );
    return;
}

# Sends requests in batches (the sidecar runs each batch in parallel);
# one answer per request, {result => ...} or {error => ...}.
sub batch {
    my @requests = @_;
    my @answers;
    my $sidecar = Sympa::SMIME::Sidecar->instance;
    while (my @chunk = splice @requests, 0, BATCH) {
        push @answers, $sidecar->call_many(\@chunk);
    }
    return @answers;
}

sub add_error {
    my ($check, $subject, $error, $what) = @_;
    my ($reason, $message) =
          (ref $error and $error->can('reason'))
        ? ($error->reason, $error->message)
        : ('internal', "$error");
    $message =~ s/\s+\z//;
    add('fail', $check, $subject, $reason,
        "$what: $message",
        hint => hint($check, $reason)
    );
    return;
}

sub hint {
    my ($check, $reason) = @_;
    # Without key_passwd, the sidecar tried no password at all.
    $reason = 'no_password'
        if $reason eq 'bad_password' and not defined $secret;
    return $CHECK_HINT{$check}{$reason} // $HINT{$reason} // '';
}

sub add {
    my ($status, $check, $subject, $reason, $detail, %extra) = @_;
    push @checks,
        {
        status => $status,
        check  => $check,
        (defined $subject ? (subject => $subject) : ()),
        reason => $reason // 'ok',
        detail => $detail,
        %extra,
        };
    return;
}

sub finish {
    my %count = (ok => 0, warn => 0, fail => 0);
    $count{$_->{status}}++ foreach @checks;
    # For cron: a warning (an expiring certificate) is news too.
    my $status = ($count{fail} or ($opt{quiet} and $count{warn})) ? 1 : 0;
    my @shown  = grep { not $opt{quiet} or $_->{status} ne 'ok' } @checks;

    binmode STDOUT, ':encoding(UTF-8)';
    if ($opt{json}) {
        require JSON::PP;
        my $out = {
            checks      => \@shown,
            summary     => \%count,
            exit_status => $status
        };
        print JSON::PP->new->canonical->pretty->encode(clean($out));
    } else {
        foreach my $check (@shown) {
            my $label = join ' ', grep {defined} @{$check}{qw(subject check)};
            my $text =
                  $check->{status} eq 'ok'
                ? $check->{detail}
                : "$check->{reason}: $check->{detail}";
            $text .= "; hint: $check->{hint}"
                if defined $check->{hint} and length $check->{hint};
            printf "%-4s %s: %s\n",
                ($check->{status} eq 'fail' ? 'FAIL' : $check->{status}),
                clean($label), clean($text);
        }
        printf "%d ok, %d warn, %d FAIL\n", @count{qw(ok warn fail)}
            unless $opt{quiet};
    }
    Sympa::SMIME::Sidecar->instance->shutdown;
    return $status;
}

# Character strings for output (Sympa keeps paths as UTF-8 bytes, the
# sidecar's answers are characters), without the password: nothing we print
# comes from a key or a password, but a password that is also a common word
# could be part of a path or a subject.
sub clean {
    my $data = shift;
    if (ref $data eq 'HASH') {
        return {map { ($_ => clean($data->{$_})) } keys %$data};
    } elsif (ref $data eq 'ARRAY') {
        return [map { clean($_) } @$data];
    } elsif (not defined $data or ref $data or looks_like_number($data)) {
        return $data;
    }
    my $copy = $data;
    utf8::decode($copy) unless utf8::is_utf8($copy);
    if (defined $secret) {
        my $password = $secret;
        utf8::decode($password) unless utf8::is_utf8($password);
        $copy =~ s/\Q$password\E/********/g;
    }
    return $copy;
}

sub trusted {
    my %store = Sympa::SMIME::Config->sympa_params('cafile', 'capath');
    my $crls  = Sympa::SMIME::Sidecar->instance->config->{crl_path};
    return (
        %store
        ? join(' and ', map {"$_ $store{$_}"} sort keys %store)
        : 'the system store'
        )
        . (
        (defined $crls and length $crls) ? ", with the CRLs of $crls" : '');
}

# "/dir/cert.pem + private_key": the key by its name only when it is next to
# its certificate.
sub pair_name {
    my ($set, $pair) = @_;
    my $key = $pair->{key};
    $key = basename($key) if dirname($key) eq dirname($pair->{cert});
    return "$pair->{cert} + $key";
}

# A time, in seconds since the epoch, at which the certificate is valid:
# none (now) when it is valid now.
sub valid_time {
    my $cert  = shift or return undef;
    my $end   = openssl_time($cert->{notAfter});
    my $start = openssl_time($cert->{notBefore});
    return undef unless defined $end and defined $start;
    return $end - 60   if $end < time;
    return $start + 60 if $start > time;
    return undef;
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or return undef;
    local $RS;
    my $content = <$fh>;
    close $fh;
    return $content // '';
}

sub pem_blocks {
    my $content = shift;
    return $content =~
        /(-----BEGIN (?:X509 )?CERTIFICATE-----.*?-----END (?:X509 )?CERTIFICATE-----)/gs;
}

# Where an administrator can read one of docs/*.md: installed by the
# package (gzipped or not), else in the source tree this script is in.
sub doc {
    my $name = shift;
    my $tree = dirname(abs_path(__FILE__)) . '/../../../../docs';
    foreach my $dir (INSTALLED_DOCS, $tree) {
        foreach my $file ("$dir/$name", "$dir/$name.gz") {
            return abs_path($file) // $file if -f $file;
        }
    }
    return "docs/$name in the sympa-smime sources";
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Doctor - The checks of sympa-smime-doctor

=head1 SYNOPSIS

  use Sympa::SMIME::Doctor;
  exit Sympa::SMIME::Doctor::run(@ARGV);

=head1 DESCRIPTION

Everything L<sympa-smime-doctor(8)> does, so that the command is a thin
script.  C<run> takes the command's arguments and returns its exit status;
what it checks and prints, its options and exit statuses are in
L<sympa-smime-doctor(8)>.

It reads Sympa's configuration with L<Conf>, sympa-smime's with
L<Sympa::SMIME::Config> (through the client, as the shim does), and asks
the sidecar (L<Sympa::SMIME::Sidecar>) everything about keys and
certificates.

=head1 FUNCTIONS

=over

=item run ( @arguments )

Runs the doctor with the command-line C<@arguments> and returns the exit
status: 0 when nothing FAILs (with C<--quiet>, nothing warns either), 1 when
something FAILs (or warns, with C<--quiet>), 2 for a wrong option.

=back

=head1 SEE ALSO

L<sympa-smime-doctor(8)>, L<Sympa::SMIME::Admin>, L<Sympa::SMIME::Certs>, L<Sympa::SMIME::Shim>.

=cut
