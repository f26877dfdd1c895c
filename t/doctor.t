# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# perl/bin/sympa-smime-doctor, run as a command against a temporary Sympa
# configuration (loaded by Sympa 6.2.70's Conf::load) and the real sidecar:
# good and broken list keys, half-installed pairs, private keys others can
# read, a trust store missing a CA or an intermediate or broken, mistakes in
# sympa.conf and sympa-smime.conf, a sidecar that cannot start, user
# certificates; the lines, their hints, --json, --quiet, the exit status,
# and that no password is ever printed.
use strict;
use warnings;
use English    qw(-no_match_vars);
use File::Path qw(make_path);
use File::Temp qw();
use JSON::PP   qw();
use Test::More;

use lib 't/lib';
use SMIMETest;
use TrustedTmp qw(trusted_tempdir);

done_unless_sidecar(
    qw(x509.parse smime.sign smime.verify smime.encrypt
        smime.decrypt)
);
Sympa::SMIME::Sidecar->instance->shutdown;

my $DOCTOR   = "$ROOT/perl/bin/sympa-smime-doctor";
my $DOMAIN   = 'lists.example.org';
my $PASSWORD = $SMIMETest::PASSWORD;
my $OTHER    = 'Another-Secret-77';

my $pki = pki();
my $tmp = File::Temp->newdir(DIR => "$ROOT/t/tmp");
chmod 0755, "$tmp";

# A certificate that expires in 10 days.
my $soon = "/C=FR/O=Test Org/CN=Soon/emailAddress=soon\@$DOMAIN";
issue_cert("$tmp", 'soon', $soon, days => 10);
# The secure list's key under another password.
pki_builder()->encrypted_key('secure', $OTHER, out => "$tmp/other.key.enc");

my $chain = slurp("$pki->{dir}/secure.chain.pem");
my %LISTS = (
    secure => {
        'cert.pem'    => $chain,
        'private_key' => slurp("$pki->{dir}/secure.key.enc"),
    },
    split => {
        'cert.pem.sign'    => slurp($pki->{crt}{split_sign}),
        'private_key.sign' => slurp("$pki->{dir}/split_sign.key.enc"),
        'cert.pem.enc'     => slurp($pki->{crt}{split_enc}),
        'private_key.enc'  => slurp("$pki->{dir}/split_enc.key.enc"),
    },
    otherpass => {
        'cert.pem'    => $chain,
        'private_key' => slurp("$tmp/other.key.enc"),
    },
    expired => {
        'cert.pem'    => slurp($pki->{crt}{expired}),
        'private_key' => slurp($pki->{key}{expired}),
    },
    untrusted => {
        'cert.pem'    => slurp($pki->{crt}{untrusted}),
        'private_key' => slurp($pki->{key}{untrusted}),
    },
    # The intermediate CA is neither in cert.pem nor in cafile.
    nointer => {
        'cert.pem'    => slurp($pki->{crt}{secure}),
        'private_key' => slurp("$pki->{dir}/secure.key.enc"),
    },
    mismatch => {
        'cert.pem'    => slurp($pki->{crt}{alice}),
        'private_key' => slurp($pki->{key}{bob}),
    },
    soon => {
        'cert.pem'    => slurp("$tmp/soon.crt"),
        'private_key' => slurp("$tmp/soon.key"),
    },
    nokeys => {},

    # Half-installed pairs: Sympa's find_keys() drops each half silently.
    halfcert => {'cert.pem' => $chain},
    halfkey  => {
        'cert.pem'         => $chain,
        'private_key'      => slurp("$pki->{dir}/secure.key.enc"),
        'private_key.sign' => slurp("$pki->{dir}/secure.key.enc"),
    },
    halfsign => {
        'cert.pem.sign'   => slurp($pki->{crt}{split_sign}),
        'cert.pem.enc'    => slurp($pki->{crt}{split_enc}),
        'private_key.enc' => slurp("$pki->{dir}/split_enc.key.enc"),
    },
);
# The lists of the first subtest, written before the half pairs.
my @FIRST = qw(secure split otherpass expired untrusted nointer mismatch soon
    nokeys);
my ($SYMPA_GID) = (getgrnam 'sympa')[2];

# A Sympa home: sympa.conf, robot keys, list directories, ssl_cert_dir.
# %options: conf (sympa.conf parameters to change, undef to remove), robots
# ({virtual robot => [lists]}), robot_files ({name => content}, more files
# in the robot's key directory).  Private keys are mode 0640, group sympa
# when we are root (so that the sympa user reads them, and nobody else),
# else 0600.
sub make_home {
    my ($name, $lists, $user_certs, %options) = @_;
    my $dir = "$tmp/$name";
    make_path("$dir/etc", "$dir/list_data/sympa", "$dir/X509-user-certs",
        "$dir/tmp", {mode => 0755});
    my %robot_files = (
        'cert.pem'    => slurp($pki->{crt}{robot}),
        'private_key' => slurp($pki->{key}{robot}),
        %{$options{robot_files} || {}},
    );
    foreach my $file (keys %robot_files) {
        key_file("$dir/list_data/sympa/$file", $robot_files{$file});
    }
    my %robots = ($DOMAIN => $lists, %{$options{robots} || {}});
    foreach my $robot (keys %robots) {
        if ($robot ne $DOMAIN) {
            make_path("$dir/etc/$robot", {mode => 0755});
            spurt("$dir/etc/$robot/robot.conf", "http_host $robot\n");
        }
        foreach my $list (@{$robots{$robot}}) {
            my $list_dir = "$dir/list_data/$robot/$list";
            make_path($list_dir, {mode => 0755});
            spurt("$list_dir/config", "subject $list\n");
            foreach my $file (keys %{$LISTS{$list}}) {
                key_file("$list_dir/$file", $LISTS{$list}{$file});
            }
        }
    }
    foreach my $file (keys %$user_certs) {
        spurt("$dir/X509-user-certs/$file", $user_certs->{$file});
    }
    my %param = (
        domain       => $DOMAIN,
        listmaster   => "listmaster\@$DOMAIN",
        home         => "$dir/list_data",
        etc          => "$dir/etc",
        db_type      => 'SQLite',
        db_name      => "$dir/sympa.sqlite",
        tmpdir       => "$dir/tmp",
        ssl_cert_dir => "$dir/X509-user-certs",
        cafile       => $pki->{cafile},
        key_passwd   => $PASSWORD,
    );
    while (my ($key, $value) = each %{$options{conf} || {}}) {
        if (defined $value) {
            $param{$key} = $value;
        } else {
            delete $param{$key};
        }
    }
    return spurt("$dir/etc/sympa.conf",
        map {"$_\t$param{$_}\n"} sort keys %param);
}

sub key_file {
    my ($file, $content) = @_;
    spurt($file, $content);
    return $file unless $file =~ m{/private_key[^/]*\z};
    if ($EUID == 0 and defined $SYMPA_GID) {
        chown 0, $SYMPA_GID, $file or die "chown $file: $ERRNO";
        chmod 0640, $file or die "chmod $file: $ERRNO";
    } else {
        chmod 0600, $file or die "chmod $file: $ERRNO";
    }
    return $file;
}

# Runs the doctor; returns (exit status, stdout, stderr).
sub doctor {
    my ($env, @args) = @_;
    local @ENV{keys %$env} = values %$env;
    my $out = File::Temp->new(DIR => "$tmp");
    my $err = File::Temp->new(DIR => "$tmp");
    system(
        sprintf '%s %s %s >%s 2>%s',
        $^X,  $DOCTOR, join(' ', map {"'$_'"} @args),
        $out, $err
    );
    return ($CHILD_ERROR >> 8, slurp("$out"), slurp("$err"));
}

# {label => [status, text]} of the doctor's lines.
sub lines {
    my $out = shift;
    my %lines;
    foreach my $line (split /\n/, $out) {
        next unless $line =~ /\A(ok|warn|FAIL) +([^:]+): (.*)\z/;
        $lines{$2} = [$1, $3];
    }
    return \%lines;
}

# Each line expected, {label => [status, qr/text/]}, is there.
sub expect_lines {
    my ($lines, $expect) = @_;
    foreach my $label (sort keys %$expect) {
        my ($status, $text) = @{$expect->{$label}};
        ok $lines->{$label}, "a line for $label" or next;
        is $lines->{$label}[0], $status, "$label: $status";
        like $lines->{$label}[1], $text, "$label: reason and detail";
    }
    return;
}

sub no_secret {
    my ($name, @outputs) = @_;
    my $all = join '', @outputs;
    unlike $all, qr/\Q$PASSWORD\E/, "$name: key_passwd printed nowhere";
    unlike $all, qr/\Q$OTHER\E/,    "$name: no other password printed";
    unlike $all, qr/PRIVATE KEY|BEGIN CERTIFICATE/,
        "$name: no key or certificate material printed";
}

my %USER_CERTS = (
    'alice@example.org'   => slurp($pki->{crt}{alice}),
    'expired@example.org' => slurp($pki->{crt}{expired}),
    'junk@example.org'    => "this is not a certificate\n",
);

subtest 'every kind of failure' => sub {
    my $config = make_home('all', \@FIRST, \%USER_CERTS);
    my ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 1, 'exit status 1: something FAILs';
    no_secret('text', $out, $err);
    my $lines = lines($out);

    my %expect = (
        'config'       => ['ok', qr/\Q$config\E loaded; key_passwd set/],
        'smime_config' => ['ok', qr/from the environment: SYMPA_SMIME_JAR/],
        'sidecar'      => ['ok', qr/sympa-smime .*Java .*Bouncy Castle/],
        'trust' => ['ok', qr/cafile \S+: 1 certificate, 1 trust anchor/],
        'keys'  => ['ok', qr/9 lists, 8 with keys; robot keys in \S+\/sympa/],
        'robot sign'        => ['ok', qr/cert\.pem \+ private_key sign/],
        'robot verify'      => ['ok', qr/verifies against cafile/],
        'robot decrypt'     => ['ok', qr/open a probe encrypted/],
        'robot expiry'      => ['ok', qr/expires in \d+ days/],
        'robot permissions' =>
            ['ok', qr/\A1 private key readable only by root( and sympa)?\z/],
        "list split\@$DOMAIN permissions" =>
            ['ok', qr/\A2 private keys readable only by/],
        "list secure\@$DOMAIN sign" =>
            ['ok', qr/\(2 certificates in the signature\)/],
        "list secure\@$DOMAIN verify"  => ['ok', qr/verifies/],
        "list secure\@$DOMAIN decrypt" => ['ok', qr/aes-128-cbc/],
        "list secure\@$DOMAIN expiry"  => ['ok', qr/expires in/],
        "list split\@$DOMAIN sign"     =>
            ['ok', qr/cert\.pem\.sign \+ private_key\.sign sign/],
        "list split\@$DOMAIN decrypt" =>
            ['ok', qr/cert\.pem\.enc \+ private_key\.enc open/],
        "list otherpass\@$DOMAIN sign" => [
            'FAIL',
            qr/\Abad_password: .*hint: check key_passwd in sympa\.conf/
        ],
        "list otherpass\@$DOMAIN decrypt" => ['FAIL', qr/\Abad_password: /],
        "list expired\@$DOMAIN sign"      =>
            ['FAIL', qr/\Aexpired: .*hint: renew the certificate/],
        # The key itself still opens mail sent while the certificate was
        # valid.
        "list expired\@$DOMAIN decrypt" => ['ok', qr/open a probe/],
        "list expired\@$DOMAIN expiry"  =>
            ['FAIL', qr/\Aexpired: .*expired on Jan  1 00:00:00 2021 GMT/],
        "list untrusted\@$DOMAIN sign"   => ['ok', qr/sign/],
        "list untrusted\@$DOMAIN verify" =>
            ['FAIL', qr/\Auntrusted_chain: .*hint: add the issuing CA/],
        "list nointer\@$DOMAIN sign" =>
            ['ok', qr/\(1 certificate in the signature\)/],
        "list nointer\@$DOMAIN verify" => ['FAIL', qr/\Auntrusted_chain: /],
        "list mismatch\@$DOMAIN sign"  => [
            'FAIL',
            qr/\Akey_mismatch: .*hint: the private key does not belong/
        ],
        "list mismatch\@$DOMAIN decrypt" =>
            ['FAIL', qr/\A(?:key_mismatch|no_matching_key): /],
        "list soon\@$DOMAIN sign"   => ['ok', qr/sign/],
        "list soon\@$DOMAIN expiry" =>
            # 10 days from a certificate made less than a second before.
            ['warn', qr/\Aexpiring: .*expires in (?:[89]|10) day/],
        'user_certificates' => [
            'warn',
            qr/3 files: 1 valid, 1 expired, 0 expire within 30 days, 1 unparsable/
        ],
    );
    expect_lines($lines, \%expect);
    ok !$lines->{"list nokeys\@$DOMAIN sign"},
        'a list without keys is not checked';
    unlike $lines->{"list split\@$DOMAIN decrypt"}[1], qr/cert\.pem\.sign/,
        'the signing-only pair is not tried for decryption';
    my $fails = () = $out =~ /^FAIL /mg;
    like $out, qr/^\d+ ok, \d+ warn, $fails FAIL$/m, 'the count';

    # --verbose: the files, and the log on stderr.
    my ($verbose_status, $verbose, $verbose_err) =
        doctor({}, '--config', $config, '--keep-user', '--verbose');
    is $verbose_status, 1, '--verbose: exit status 1';
    like $verbose,
        qr/^warn user_certificates: .*; expired: expired\@example\.org; unparsable: junk\@example\.org;/m,
        '--verbose names the files';
    no_secret('verbose', $verbose, $verbose_err);

    # --json: the same checks.
    my ($json_status, $json, $json_err) =
        doctor({}, '--config', $config, '--keep-user', '--json');
    is $json_status, 1, '--json: exit status 1';
    no_secret('json', $json, $json_err);
    my $doc = eval { JSON::PP->new->decode($json) };
    ok $doc, '--json prints JSON' or diag $json;
    is $doc->{exit_status},   1,      'exit_status';
    is $doc->{summary}{fail}, $fails, 'summary: as many FAIL';
    my %by_label = map {
        (join(' ', grep {defined} $_->{subject}, $_->{check}) => $_)
    } @{$doc->{checks}};
    is_deeply [sort keys %by_label], [sort keys %$lines],
        'the same checks as in text';
    is_deeply {
        map { ($_ => $by_label{$_}{status}) } keys %by_label
    },
        {map { ($_ => lc $lines->{$_}[0]) } keys %$lines},
        'with the same statuses';
    is $by_label{"list otherpass\@$DOMAIN sign"}{reason}, 'bad_password',
        'reason member';
    is_deeply $by_label{user_certificates}{files},
        {
        valid      => ['alice@example.org'],
        expired    => ['expired@example.org'],
        expiring   => [],
        unparsable => ['junk@example.org'],
        },
        'user certificate files by kind';
};

subtest 'a good set-up' => sub {
    my $config = make_home('good', [qw(secure split)],
        {'alice@example.org' => $USER_CERTS{'alice@example.org'}});
    # As root, the doctor runs as the sympa user, as Sympa does.
    my $as_sympa = ($EUID == 0 and getpwnam 'sympa');
    my ($status, $out, $err) = doctor({SYMPA_CONFIG => $config});
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 0, 'exit status 0' or diag $out, $err;
    unlike $out, qr/^(?:FAIL|warn) /m,                'no FAIL, no warn';
    like $out, qr/^ok   config: \Q$config\E loaded/m, 'SYMPA_CONFIG is read';
    like $out, qr/running as sympa/, 'runs as the sympa user'
        if $as_sympa;
    is $err, '', 'nothing on stderr';
    no_secret('good', $out, $err);

    # For cron: nothing to say, nothing printed.
    ($status, $out, $err) = doctor({SYMPA_CONFIG => $config}, '--quiet');
    is $status, 0,  '--quiet, all well: exit status 0';
    is $out,    '', '--quiet, all well: nothing on stdout';
    is $err,    '', '--quiet, all well: nothing on stderr';

SKIP: {
        skip 'not root, or no sympa user', 6 unless $as_sympa;
        my $key = "$tmp/good/list_data/$DOMAIN/secure/private_key";
        chmod 0600, $key;
        ($status, $out) = doctor({}, '--config', $config);
        is $status, 1, 'a key only root can read: exit status 1';
        like $out,
            qr/^FAIL list secure\@\Q$DOMAIN\E sign: file_unreadable: /m,
            'file_unreadable for the sympa user';
        ($status, $out) = doctor({}, '--config', $config, '--keep-user');
        is $status, 0, 'fine with --keep-user';
        chmod 0640, $key;

        # Directories the sympa user cannot enter are not "missing".
        chmod 0700, "$tmp/good/X509-user-certs",
            "$tmp/good/list_data/$DOMAIN";
        ($status, $out) = doctor({}, '--config', $config);
        is $status, 1, 'unreadable directories: exit status 1';
        like $out,
            qr/^FAIL keys: file_unreadable: the lists of \Q$DOMAIN\E in \S+: \S/m,
            'the list directory';
        like $out,
            qr/^FAIL user_certificates: file_unreadable: ssl_cert_dir \S+: \S/m,
            'ssl_cert_dir';
        chmod 0755, "$tmp/good/X509-user-certs",
            "$tmp/good/list_data/$DOMAIN";
    }
};

subtest 'trust stores, virtual robots' => sub {
    my $inter_only = spurt("$tmp/inter-only.pem", slurp($pki->{crt}{inter}));
    my $config     = make_home(
        'trust',
        [],
        {},
        conf => {
            cafile => $inter_only,
            capath => $pki->{capath},
        },
        robots => {'other.example.org' => ['secure']},
    );
    my ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 1, 'exit status 1';
    like $out,
        qr/^FAIL trust: untrusted_chain: cafile \Q$inter_only\E: 1 certificate, 0 trust anchors: no self-signed/m,
        'a cafile without a root';
    like $out,
        qr/^ok   trust: capath \Q$pki->{capath}\E: 1 certificate, 1 trust anchor$/m,
        'a capath with c_rehash links counts each certificate once';
    like $out,
        qr/^ok   keys: 1 list, 1 with keys;/m, 'the virtual robot\'s list';
    like $out,
        qr/^ok   list secure\@other\.example\.org verify: .*against cafile \S+ and capath /m,
        'verified against both, with the intermediate from cert.pem';
    no_secret('trust', $out, $err);

    # What Sympa says while loading, even when it loads: a warn line.
    open my $fh, '>>', "$tmp/trust/etc/other.example.org/robot.conf" or die;
    print $fh "no_such_robot_param x\n";
    close $fh;
    ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    like $out,
        qr/^warn config: config: Line 2, unknown field: no_such_robot_param in \Q$tmp\E\/trust\/etc\/other\.example\.org\/robot\.conf; hint: Sympa loaded its configuration, but not all of it as written: fix sympa\.conf or the robot\.conf named$/m,
        'an unknown robot.conf parameter';
    is $err, '', 'not on stderr';
};

subtest 'no cafile nor capath: the system store the sidecar names' => sub {
    my $config = make_home('system', [], {}, conf => {cafile => undef});
    my ($status, $out) = doctor({}, '--config', $config, '--keep-user');
    my $store = '/etc/ssl/certs/ca-certificates.crt';
    my $count = () = slurp($store) =~ /-----BEGIN CERTIFICATE-----/g;
    like $out,
        qr/^ok   trust: cafile and capath not set: the system store \Q$store\E \($count certificates\) is trusted$/m,
        'the store the sidecar names, with its certificates counted';
};

subtest 'crl_path' => sub {
    my $config = "$tmp/good/etc/sympa.conf";
    my ($status, $out, $err) =
        doctor({SYMPA_SMIME_CRL_PATH => "$tmp/no-crls"},
        '--config', $config, '--keep-user');
    is $status, 1, 'a crl_path that cannot be read: exit status 1';
    like $out,
        qr/^FAIL robot verify: file_unreadable: .*hint: check crl_path/m,
        'the signature check fails, as it would for every message';

    my $crl = "$tmp/crl";
    revoking_crl($crl);
    ($status, $out, $err) = doctor({SYMPA_SMIME_CRL_PATH => "$crl/ca.crl"},
        '--config', $config, '--keep-user');
    like $out,
        qr/^ok   robot verify: .*against cafile \S+, with the CRLs of \Q$crl\E\/ca\.crl$/m,
        'a current CRL: the signature verifies, and the line says with what';
};

subtest 'cannot start' => sub {
    my ($status, $out, $err) =
        doctor({}, '--config', "$tmp/missing.conf", '--keep-user');
    is $status, 1, 'no sympa.conf: exit status 1';
    like $out, qr/^FAIL config: config: cannot load \Q$tmp\E\/missing\.conf/m,
        'says so';

    my $config = "$tmp/good/etc/sympa.conf";
    ($status, $out, $err) = doctor({SYMPA_SMIME_JAR => "$tmp/none.jar"},
        '--config', $config, '--keep-user');
    is $status, 1, 'no jar: exit status 1';
    like $out,
        qr/^FAIL sidecar: sidecar_unavailable: .*jar not found: \S*none\.jar.*hint: install sympa-smime\.jar, or set jar in \S+ or SYMPA_SMIME_JAR; see \Q${\doc('install.md')}\E$/m,
        'sidecar_unavailable with a hint for the jar, and where to read more';
    unlike $out, qr/last words/, 'no "last words" when no sidecar ran';
    no_secret('no jar', $out, $err);

    ($status) = doctor({}, '--no-such-option');
    is $status, 2, 'a wrong option: exit status 2';
    ($status, $out, $err) = doctor({}, '--quiet', '--verbose');
    is $status, 2, '--quiet with --verbose: exit status 2';
    like $err, qr/\Ausage: .*--verbose \| --quiet/s, 'with the usage';
};

# Where the doctor's hints send the administrator: the docs the Debian
# package installs, when they are there, else this source tree's.
sub doc {
    my $name = shift;
    foreach my $dir ('/usr/share/doc/sympa-smime', "$ROOT/docs") {
        foreach my $file ("$dir/$name", "$dir/$name.gz") {
            return $file if -f $file;
        }
    }
    die "no $name\n";
}

subtest 'half-installed pairs, private keys others can read' => sub {
    my $config =
        make_home('files', [qw(halfcert halfkey halfsign secure split)],
        {}, robot_files => {'cert.pem.enc' => slurp($pki->{crt}{robot})});
    my $lists = "$tmp/files/list_data/$DOMAIN";
    chmod 0644, "$lists/secure/private_key";
    my ($www_uid, $www_gid) = (getpwnam 'www-data')[2, 3];
    my $as_root = ($EUID == 0 and defined $www_uid and defined $SYMPA_GID);
    if ($as_root) {
        # Group-readable by a group with someone else in it.
        chown 0, $www_gid, "$lists/split/private_key.sign";
        # Owned by someone else, who can read it whatever its mode.
        chown $www_uid, $SYMPA_GID, "$lists/split/private_key.enc";
    }
    my ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 1, 'exit status 1';
    no_secret('files', $out, $err);
    my $lines  = lines($out);
    my $robot  = "$tmp/files/list_data/sympa";
    my %expect = (
        'keys' => ['ok', qr/\A5 lists, 4 with keys, 3 with half a key pair;/],
        'robot pairs' => [
            'FAIL',
            qr/\Ahalf_pair: \Q$robot\E\/cert\.pem\.enc has no private_key\.enc beside it: Sympa does not decrypt with it, and says nothing; the robot signs with \Q$robot\E\/cert\.pem \+ private_key and decrypts with 1 pair; hint: install private_key\.enc \(the other half of the pair\), or remove cert\.pem\.enc\z/
        ],
        "list halfcert\@$DOMAIN pairs" => [
            'FAIL',
            qr/\Ahalf_pair: \Q$lists\E\/halfcert\/cert\.pem has no private_key beside it: Sympa does not sign or decrypt with it, and says nothing; the list does not sign and cannot decrypt;/
        ],
        "list halfkey\@$DOMAIN pairs" => [
            'FAIL',
            qr/\Ahalf_pair: \S+\/private_key\.sign has no cert\.pem\.sign beside it: Sympa does not sign with it, .*; the list signs with \S+\/halfkey\/cert\.pem \+ private_key and decrypts with 1 pair; hint: install cert\.pem\.sign/
        ],
        "list halfsign\@$DOMAIN pairs" => [
            'FAIL',
            qr/\Ahalf_pair: \S+\/cert\.pem\.sign has no private_key\.sign beside it: .*; the list does not sign and decrypts with 1 pair;/
        ],
        # The complete pair beside the half is still checked.
        "list halfkey\@$DOMAIN sign" =>
            ['ok', qr/cert\.pem \+ private_key sign/],
        "list halfsign\@$DOMAIN decrypt" =>
            ['ok', qr/cert\.pem\.enc \+ private_key\.enc open/],
        "list secure\@$DOMAIN permissions" => [
            'FAIL',
            qr/\Akey_exposed: \Q$lists\E\/secure\/private_key: readable by everyone \(mode 0644\); hint: make it owned by sympa:sympa, mode 0600/
        ],
    );
    expect_lines($lines, \%expect);
    ok !$lines->{"list halfcert\@$DOMAIN sign"},
        'a list with half a pair only: no key pair to check';
SKIP: {
        skip 'not root, or no www-data user or sympa group', 3
            unless $as_root;
        like $out,
            qr/^FAIL list split\@\Q$DOMAIN\E permissions: key_exposed: \S+\/private_key\.sign: readable by its group www-data \(mode 0640\), so by www-data;/m,
            'a group with another user in it';
        like $out,
            qr/^FAIL list split\@\Q$DOMAIN\E permissions: key_exposed: \S+\/private_key\.enc: owned by www-data, who can read it/m,
            'another owner';
        like $lines->{"list halfkey\@$DOMAIN permissions"}[1],
            qr/\A2 private keys readable only by root and sympa\z/,
            'group sympa, with only the sympa user in it, is fine';
    }

    my ($json_status, $json) =
        doctor({}, '--config', $config, '--keep-user', '--json');
    my $doc = JSON::PP->new->decode($json);
    my %reasons;
    $reasons{$_->{reason}}++ foreach @{$doc->{checks}};
    is $reasons{half_pair}, 4, '--json: the half_pair reason';
    ok $reasons{key_exposed}, '--json: the key_exposed reason';

    chmod 0640, "$lists/secure/private_key";
    ($status, $out) = doctor({}, '--config', $config, '--keep-user');
    like $out,
        qr/^ok   list secure\@\Q$DOMAIN\E permissions: 1 private key readable only by /m,
        'mode 0640 again: ok';
};

subtest 'a broken trust store' => sub {
    my $missing = "$tmp/no-such-cafile.pem";
    my $config  = make_home(
        'broken', ['secure', 'otherpass'],
        {},       conf => {cafile => $missing}
    );
    my ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 1, 'a missing cafile: exit status 1';
    no_secret('broken cafile', $out, $err);
    like $out,
        qr/^FAIL trust: trust_store_unreadable: cafile \Q$missing\E: No such file or directory; Sympa signs list mail without it \(smime\.sign: cafile not used[^;]*\Q$missing\E[^;]*\); no signature can be checked \(smime\.verify: [^;]*\Q$missing\E[^;]*\); hint: check cafile and capath/m,
        'one trust line says what it breaks';
    like $out,
        qr/^FAIL list otherpass\@\Q$DOMAIN\E sign: bad_password: /m,
        'a pair that fails without cafile too: its own error';
    is scalar(() = $out =~ /^FAIL (?!list otherpass)/mg), 1, 'no other FAIL';
    like $out,
        qr/^ok   list secure\@\Q$DOMAIN\E sign: .*\(2 certificates in the signature; cafile not used[^)]*\)$/m,
        'the key pair signs without cafile, and says so';
    unlike $out, qr/ verify: /, 'no signature check is blamed on a key pair';

    my $garbage = spurt("$tmp/garbage-cafile.pem", "not a certificate\n");
    $config =
        make_home('garbage', ['secure'], {}, conf => {cafile => $garbage});
    ($status, $out) = doctor({}, '--config', $config, '--keep-user');
    like $out,
        qr/^FAIL trust: trust_store_unreadable: cafile \Q$garbage\E: 0 certificates, 0 trust anchors: nothing is trusted; Sympa signs list mail without it/m,
        'a cafile without certificates';
    is scalar(() = $out =~ /^FAIL /mg), 1, 'the only FAIL';

    my $nodir = "$tmp/no-such-capath";
    $config =
        make_home('nocapath', ['secure'], {}, conf => {capath => $nodir});
    ($status, $out) = doctor({}, '--config', $config, '--keep-user');
    like $out,
        qr/^FAIL trust: trust_store_unreadable: capath \Q$nodir\E: not a directory; no signature can be checked \(smime\.verify: /m,
        'a missing capath: signatures cannot be checked';
    unlike $out, qr/Sympa signs list mail without/,
        'signing does not read capath';
    like $out, qr/^ok   robot sign: .*\(1 certificate in the signature\)$/m,
        'the robot signs as usual';
    is scalar(() = $out =~ /^FAIL /mg), 1, 'the only FAIL';
};

subtest 'configuration mistakes, --quiet' => sub {
    my $good     = "$tmp/good/etc/sympa.conf";
    my $settings = trusted_tempdir();
    my $file     = spurt("$settings/sympa-smime.conf",
        "ciper = aes-256-cbc\ntimeout = soon\n");
    chmod 0644, $file;
    my ($status, $out, $err) = doctor({SYMPA_SMIME_CONFIG => $file},
        '--config', $good, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    is $status, 0, 'warnings only: exit status 0';
    my $doc = doc('configuration.md');
    like $out,
        qr/^warn smime_config: config: unknown setting "ciper" in \Q$file\E; ignored \(did you mean "cipher"\?\); hint: fix the file or the environment variable: the settings are described in \Q$doc\E$/m,
        'a misspelt setting, without --verbose';
    like $out,
        qr/^warn smime_config: config: timeout "soon" \(file\) is not a positive number of seconds; using 60;/m,
        'a value that is not one';
    is $err, '', 'nothing on stderr';

    ($status, $out, $err) = doctor({SYMPA_SMIME_CONFIG => $file},
        '--config', $good, '--keep-user', '--quiet');
    is $status, 1, '--quiet: warnings give exit status 1';
    my @lines = split /\n/, $out;
    is scalar @lines, 2, '--quiet: two lines';
    is scalar(grep {/\Awarn smime_config: /} @lines), 2,
        '--quiet: the warn lines alone';

    ($status, $out) = doctor({SYMPA_SMIME_CONFIG => $file},
        '--config', $good, '--keep-user', '--quiet', '--json');
    my $json = JSON::PP->new->decode($out);
    is $json->{exit_status}, 1, '--quiet --json: exit_status 1';
    is_deeply [map { $_->{status} } @{$json->{checks}}], ['warn', 'warn'],
        '--quiet --json: the warnings alone';

    # An expiring certificate, for cron.
    my $soon = make_home('soon', ['soon'], {});
    ($status, $out) = doctor({}, '--config', $soon, '--keep-user');
    is $status, 0, 'an expiring certificate: exit status 0';
    ($status, $out) = doctor({}, '--config', $soon, '--keep-user', '--quiet');
    is $status, 1, 'an expiring certificate, --quiet: exit status 1';
    like $out, qr/\Awarn list soon\@\Q$DOMAIN\E expiry: expiring: [^\n]*\n\z/,
        'the one line';

    # A file whoever could change it.
    chmod 0666, $file;
    ($status, $out) = doctor({SYMPA_SMIME_CONFIG => $file},
        '--config', $good, '--keep-user');
    is $status, 1, 'an untrusted sympa-smime.conf: exit status 1';
    like $out,
        qr/^FAIL smime_config: config: \Q$file\E is writable by everyone .*no sidecar starts; hint: make \Q$file\E \(and the directories above it\) owned and writable by root only; see \Q$doc\E$/m,
        'says why and what to do';
    unlike $out, qr/ sidecar: /, 'no sidecar is tried';

    # sympa.conf: a typo makes Conf::load fail; its words are on the line.
    my $typo = make_home('typo', [], {}, conf => {no_such_parameter => 'x'});
    ($status, $out, $err) = doctor({}, '--config', $typo, '--keep-user');
    is $status, 1, 'a typo in sympa.conf: exit status 1';
    like $out,
        qr/^FAIL config: config: cannot load \Q$typo\E; Line \d+, unknown field: no_such_parameter in \Q$typo\E;.*hint: fix sympa\.conf$/m,
        'Sympa\'s own error on the line';
    is $err, '', 'not on stderr';
};

subtest 'hints that say what is true' => sub {
    my $config =
        make_home('nopass', ['secure'], {}, conf => {key_passwd => undef});
    my ($status, $out, $err) = doctor({}, '--config', $config, '--keep-user');
    diag $out, $err if $ENV{TEST_VERBOSE};
    like $out, qr/^ok   config: .*key_passwd not set$/m, 'no key_passwd';
    no_secret('no key_passwd', $out, $err);
    like $out,
        qr/^FAIL list secure\@\Q$DOMAIN\E sign: bad_password: .*; hint: the key is encrypted but key_passwd is not set in sympa\.conf/m,
        'an encrypted key without key_passwd';
    unlike $out, qr/does not open with it/, 'no word of a wrong password';

    my $good = "$tmp/good/etc/sympa.conf";
    ($status, $out) = doctor({SYMPA_SMIME_JAVA => "$tmp/no-java"},
        '--config', $good, '--keep-user');
    like $out,
        qr/^FAIL sidecar: sidecar_unavailable: .*java not found: .*hint: install a Java 17 runtime \(default-jre-headless\), or set java in \S+ or SYMPA_SMIME_JAVA;/m,
        'no java';

    ($status, $out) = doctor({SYMPA_SMIME_JAVA => '/bin/false'},
        '--config', $good, '--keep-user');
    like $out,
        qr/^FAIL sidecar: sidecar_unavailable: .*exited with status 1.*hint: the sidecar ran and stopped without a word: run \/bin\/false -version/m,
        'a java that exits without a word';

    ($status, $out) = doctor(
        {   SYMPA_SMIME_JAVA => "$ROOT/t/lib/fake-java",
            SYMPA_SMIME_FAKE => 'crash'
        },
        '--config',
        $good,
        '--keep-user'
    );
    like $out,
        qr/^FAIL sidecar: sidecar_unavailable: .*fake sidecar cannot start.*hint: the sidecar ran and stopped: its last words \(stderr\) are in the message/m,
        'a sidecar with last words';
};

done_testing();
