# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Test support for the shim tests: a throwaway PKI made with the openssl CLI,
# a minimal Sympa configuration in a temporary directory, messages made by
# openssl, captured Sympa log lines, and the original (Crypt::SMIME) methods.
package SMIMETest;

use strict;
use warnings;
use English        qw(-no_match_vars);
use Cwd            qw(abs_path);
use Exporter       qw(import);
use Fcntl          qw(:flock);
use File::Basename qw(dirname);
use File::Path     qw(make_path remove_tree);
use File::Temp     qw();
use Scalar::Util   qw();
use Test::More;

our @EXPORT = qw(
    $ROOT $SYMPA_LIB pki openssl openssl_out slurp spurt sympa_home
    fake_list new_message sign_entity encrypt_entity sidecar_ready
    done_unless_sidecar has_method xs_available with_originals run_method logs
    clear_logs files_in pem_of corpus_dir pki_builder issue_cert revoking_crl
);

our $ROOT      = abs_path(dirname(__FILE__) . '/../..');
our $SYMPA_LIB = $ENV{SYMPA_LIB} || '/usr/share/sympa/lib';

use Prerequisite;
use TestPKI;

BEGIN {
    my $lib = $ENV{SYMPA_LIB} || '/usr/share/sympa/lib';
    Prerequisite::missing("no Sympa in $lib (SYMPA_LIB)")
        unless -f "$lib/Sympa/Message.pm";
}

# The shim first, as PERL5OPT=-MSympa::SMIME::Shim loads it, then Sympa's
# library, as Sympa's scripts "use lib" it.
use lib abs_path(dirname(__FILE__) . '/../../perl/lib');
use Sympa::SMIME::Shim;
use lib $ENV{SYMPA_LIB} || '/usr/share/sympa/lib';
use Conf;
use Sympa::Log;
use Sympa::Message;
use Sympa::Tools::SMIME;

$ENV{SYMPA_SMIME_JAR} //= "$ROOT/target/sympa-smime.jar";

my $TMP = "$ROOT/t/tmp";
make_path($TMP);

# Bump when the PKI recipe changes: the cached PKI is then rebuilt.
my $PKI_VERSION = 3;
our $PASSWORD = 'Sympa-Test-Passwd';

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $ERRNO";
    binmode $fh;
    local $RS;
    return scalar <$fh>;
}

sub spurt {
    my $file = shift;
    open my $fh, '>', $file or die "$file: $ERRNO";
    binmode $fh;
    print $fh @_;
    close $fh or die "$file: $ERRNO";
    return $file;
}

# Dies with openssl's stderr when it fails.
sub openssl { return TestPKI::openssl(@_) }

# Runs openssl with $input on stdin; returns stdout, undef on failure.
sub openssl_out {
    my $input = shift;
    my @args  = @_;
    my $dir   = File::Temp->newdir(DIR => $TMP);
    my $in    = spurt("$dir/in", $input // '');
    my $rc    = system sprintf(
        'openssl %s <%s >%s/out 2>%s',
        join(' ', map {"'$_'"} @args),
        $in, $dir, $ENV{TEST_VERBOSE} ? '&2' : '/dev/null'
    );
    return undef if $rc;
    return slurp("$dir/out");
}

my $EXTENSIONS = <<'EOF';
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[both]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:copy
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[plain]
keyUsage = digitalSignature, keyEncipherment
[sign]
keyUsage = critical, digitalSignature
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[enc]
keyUsage = critical, keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[nonrep]
keyUsage = critical, nonRepudiation
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[noku]
basicConstraints = CA:FALSE
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[ec]
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[multi]
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = email:Second@Example.org, email:third@example.org, email:multi@example.org, DNS:www.example.org, email:not-an-email
[attrs]
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = email:JD@example.org, email:zed@example.org
[serverauth]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = email:copy
EOF

my $ORG = '/C=FR/O=Test Org';

# name => [issuer, key type, subject, extensions section, dates, more
# TestPKI::issue options]
my %LEAVES = (
    rousse => [
        'ca',
        'rsa',
        '/O=sympa developpers/OU=unit testing/CN=Guillaume Rousse'
            . '/emailAddress=Guillaume.Rousse@sympa.org',
        'plain'
    ],
    alice => [
        'ca',                                                 'rsa',
        "$ORG/CN=Alice User/emailAddress=Alice\@Example.org", 'both'
    ],
    bob => [
        'ca',                                             'rsa',
        "$ORG/CN=Bob User/emailAddress=bob\@example.org", 'both'
    ],
    sigonly => [
        'ca',                                                  'rsa',
        "$ORG/CN=Sign Only/emailAddress=sigonly\@example.org", 'sign'
    ],
    enconly => [
        'ca',                                                 'rsa',
        "$ORG/CN=Enc Only/emailAddress=enconly\@example.org", 'enc'
    ],
    nonrep => [
        'ca',                                                       'rsa',
        "$ORG/CN=Non Repudiation/emailAddress=nonrep\@example.org", 'nonrep'
    ],
    noku =>
        ['ca', 'rsa', "$ORG/CN=No KU/emailAddress=noku\@example.org", 'noku'],
    noext => [
        'ca',                                                    'rsa',
        "$ORG/CN=No Extensions/emailAddress=noext\@example.org", undef
    ],
    ec => ['ca', 'ec', "$ORG/CN=EC User/emailAddress=ec\@example.org", 'ec'],
    expired => [
        'ca',                                                'rsa',
        "$ORG/CN=Expired/emailAddress=expired\@example.org", 'both',
        ['20200101000000Z', '20210101000000Z']
    ],
    future => [
        'ca',                                              'rsa',
        "$ORG/CN=Future/emailAddress=future\@example.org", 'both',
        ['20400101000000Z', '20410101000000Z']
    ],
    untrusted => [
        'other',                                                 'rsa',
        "$ORG/CN=Untrusted/emailAddress=untrusted\@example.org", 'both'
    ],
    chained => [
        'inter',                                             'rsa',
        "$ORG/CN=Chained/emailAddress=chained\@example.org", 'both'
    ],
    multi => [
        'ca',
        'rsa',
        "$ORG/CN=Multi/emailAddress=multi\@example.org"
            . '/emailAddress=Multi@Example.org',
        'multi'
    ],
    uni => [
        'ca',
        'rsa',
        "/C=FR/OU=D\x{e9}pt+O=Universit\x{e9}, Test/CN=Zo\x{eb} \"Z\" \x{dc}nicode"
            . '/emailAddress=zoe@example.org',
        'both',
        undef,
        {utf8 => 1, multivalue_rdn => 1}
    ],
    attrs => [
        'ca',
        'rsa',
        '/DC=org/DC=example/C=FR/ST=Ile-de-France/L=Paris/street=1 rue X'
            . '/postalCode=75001/O=Org, Inc./OU=Unit A/OU=Unit B/title=Dr'
            . '/GN=Jean/SN=Dupont/serialNumber=12345/UID=jdupont'
            . '/CN=Jean "JD" Dupont/emailAddress=jd@example.org',
        'attrs'
    ],
    serverauth => [
        'ca',                                              'rsa',
        "$ORG/CN=Server/emailAddress=server\@example.org", 'serverauth'
    ],
    # List and robot keys.
    secure => [
        'inter',                                                      'rsa',
        "$ORG/CN=Secure List/emailAddress=secure\@lists.example.org", 'both'
    ],
    split_sign => [
        'ca',                                                       'rsa',
        "$ORG/CN=Split List/emailAddress=split\@lists.example.org", 'sign'
    ],
    split_enc => [
        'ca',                                                       'rsa',
        "$ORG/CN=Split List/emailAddress=split\@lists.example.org", 'enc'
    ],
    robot => [
        'ca',                                                        'rsa',
        "$ORG/CN=Sympa Robot/emailAddress=sympa\@lists.example.org", 'both'
    ],
);

my %CAS = (
    ca => [
        undef,
        '/O=sympa developpers/OU=unit testing/CN=Test CA'
            . '/emailAddress=test@sympa.org'
    ],
    inter => ['ca',  "$ORG/CN=Test Intermediate CA"],
    other => [undef, '/C=FR/O=Other Org/CN=Other CA'],
);

# Builds the PKI once in t/tmp/pki (shared by the test files) and returns
# {dir, crt => {name => path}, key => {name => path}, password}.
sub pki {
    my $dir = "$TMP/pki";
    open my $lock, '>', "$TMP/pki.lock" or die $ERRNO;
    flock $lock, LOCK_EX;
    unless (-e "$dir/done-$PKI_VERSION") {
        remove_tree($dir);
        _make_pki($dir);
        spurt("$dir/done-$PKI_VERSION", '');
    }
    close $lock;

    my %pki = (dir => $dir, password => $PASSWORD);
    foreach my $name (keys %CAS, keys %LEAVES) {
        $pki{crt}{$name} = "$dir/$name.crt";
        $pki{key}{$name} = "$dir/$name.key";
    }
    $pki{cafile} = "$dir/cafile.pem";
    $pki{capath} = "$dir/capath";
    return \%pki;
}

sub _make_pki {
    my $dir = shift;
    my $pki = TestPKI->new($dir, suffix => 'crt', extensions => $EXTENSIONS);
    foreach my $name (qw(ca other)) {
        $pki->issue(
            $name,
            subject => $CAS{$name}[1],
            section => 'v3_ca',
            days    => 7300
        );
    }
    $pki->issue(
        'inter',
        issuer  => 'ca',
        subject => $CAS{inter}[1],
        section => 'v3_ca'
    );
    foreach my $name (sort keys %LEAVES) {
        my ($issuer, $type, $subject, $ext, $dates, $req_args) =
            @{$LEAVES{$name}};
        $pki->issue(
            $name,
            issuer   => $issuer,
            key_type => $type,
            subject  => $subject,
            section  => $ext,
            dates    => $dates,
            %{$req_args || {}}
        );
    }

    # cafile holds the root only: intermediates come from the messages.
    spurt("$dir/cafile.pem", slurp("$dir/ca.crt"));
    $pki->capath("$dir/capath", 'ca');

    # The secure list: leaf then intermediate, key under password.
    $pki->chain('secure');
    $pki->encrypted_key($_, $PASSWORD, out => "$dir/$_.key.enc")
        foreach qw(secure split_sign split_enc);
}

# The fixed PKI as a builder, to issue more from its CAs.
sub pki_builder {
    return TestPKI->new(pki()->{dir}, suffix => 'crt');
}

# Issues in $dir a certificate NAME.crt (key NAME.key) from the PKI's CA
# (or %options' issuer), valid for %options' days (365), with one of the
# PKI's extension sections (default both).  Returns the certificate's path.
sub issue_cert {
    my ($dir, $name, $subject, %options) = @_;
    return pki_builder()->issue(
        $name,
        dir     => $dir,
        issuer  => $options{issuer} // 'ca',
        subject => $subject,
        days    => $options{days} // 365,
        serial  => int(rand 1_000_000_000) + 1,
        section => $options{extensions} // 'both'
    )->{cert};
}

# A CRL of the PKI's CA in $dir/ca.crl, valid 30 days, revoking @certs
# (paths) for keyCompromise.  Returns its path.
sub revoking_crl {
    my ($dir, @certs) = @_;
    return pki_builder()->crl("$dir/ca.crl", 'ca', @certs);
}

# A home directory with a configuration for Sympa: robot keys in
# home/sympa, an empty ssl_cert_dir, list directories.  %Conf::Conf is set.
# Options: cafile, capath (default: the PKI's cafile only), key_passwd.
sub sympa_home {
    my %options = @_;
    my $pki     = pki();
    my $home    = File::Temp->newdir(DIR => $TMP);

    make_path("$home/sympa", "$home/X509-user-certs", "$home/tmp");
    spurt("$home/sympa/cert.pem",    slurp($pki->{crt}{robot}));
    spurt("$home/sympa/private_key", slurp($pki->{key}{robot}));

    # secure: combined key pair under password, with its intermediate.
    make_path("$home/list_data/secure");
    spurt(
        "$home/list_data/secure/cert.pem",
        slurp("$pki->{dir}/secure.chain.pem")
    );
    spurt(
        "$home/list_data/secure/private_key",
        slurp("$pki->{dir}/secure.key.enc")
    );
    # split: one pair for signing, one for encryption.
    make_path("$home/list_data/split");
    spurt(
        "$home/list_data/split/cert.pem.sign",
        slurp($pki->{crt}{split_sign})
    );
    spurt(
        "$home/list_data/split/private_key.sign",
        slurp("$pki->{dir}/split_sign.key.enc")
    );
    spurt("$home/list_data/split/cert.pem.enc",
        slurp($pki->{crt}{split_enc}));
    spurt(
        "$home/list_data/split/private_key.enc",
        slurp("$pki->{dir}/split_enc.key.enc")
    );

    %Conf::Conf = (
        home           => "$home",
        ssl_cert_dir   => "$home/X509-user-certs",
        tmpdir         => "$home/tmp",
        key_passwd     => $PASSWORD,
        cafile         => $pki->{cafile},
        sender_headers => 'From',
        domain         => 'lists.example.org',
    );
    foreach my $name (qw(cafile capath key_passwd)) {
        next unless exists $options{$name};
        if (defined $options{$name}) {
            $Conf::Conf{$name} = $options{$name};
        } else {
            delete $Conf::Conf{$name};
        }
    }
    return $home;
}

# A Sympa::List as find_keys() sees it: its directory is all that counts.
sub fake_list {
    my $home = shift;
    my $name = shift;
    require Sympa::List;
    return bless {
        name   => $name,
        domain => 'lists.example.org',
        dir    => "$home/list_data/$name",
    } => 'Sympa::List';
}

sub new_message {
    my $string  = shift;
    my %options = @_;
    return Sympa::Message->new(
        $string,
        context => '*',
        sender  => 'alice@example.org',
        %options
    );
}

my $HEADER = <<'EOF';
From: Alice User <alice@example.org>
To: secure@lists.example.org
Subject: Test message
Message-ID: <test.%d@example.org>
Date: Sun, 29 Nov 2026 12:00:00 +0000
EOF
my $ENTITY = <<'EOF';
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello world.
Second line with trailing space 
Caf\x{e9}

-- 
sig
EOF
$ENTITY =~ s/\\x\{e9\}/\xc3\xa9/;
my $counter = 0;

# Signs $entity (default: a text/plain entity) with openssl cms as $signer
# and puts a From/To/Subject header on top.  Options: entity, header,
# certfile (extra certificates), args (more openssl arguments), crlf.
sub sign_entity {
    my $signer  = shift;
    my %options = @_;
    my $pki     = pki();
    my $signed  = openssl_out(
        $options{entity} // $ENTITY,
        'cms',
        '-sign',
        '-signer',
        $pki->{crt}{$signer},
        '-inkey',
        $pki->{key}{$signer},
        ($options{certfile} ? ('-certfile', $options{certfile}) : ()),
        @{$options{args} || []}
    ) // die "openssl cms -sign failed\n";
    # As Sympa gets it from the MTA: LF line ends (crlf => 1: CRLF).
    my $message =
        ($options{header} // sprintf($HEADER, ++$counter)) . $signed;
    $message =~ s/\r\n/\n/g;
    $message =~ s/\n/\r\n/g if $options{crlf};
    return $message;
}

# Encrypts $entity with openssl cms for @recipients (PKI names or paths).
sub encrypt_entity {
    my $recipients = shift;
    my %options    = @_;
    my $pki        = pki();
    my $encrypted  = openssl_out(
        $options{entity} // $ENTITY,
        'cms', '-encrypt',
        @{$options{args} || ['-aes128']},
        map { $pki->{crt}{$_} // $_ } @$recipients
    ) // die "openssl cms -encrypt failed\n";
    return ($options{header} // sprintf($HEADER, ++$counter)) . $encrypted;
}

sub entity { return $ENTITY }

# Is the sidecar there and does it know $method?
my %methods;

sub has_method {
    my $method = shift;
    return $methods{$method} if exists $methods{$method};
    my $ok = eval {
        require Sympa::SMIME::Sidecar;
        Sympa::SMIME::Sidecar->instance->call($method, {});
        1;
    };
    my $error = $EVAL_ERROR;
    # Invalid params means the method exists.
    $ok ||=
           Scalar::Util::blessed($error)
        && $error->can('code')
        && $error->code != -32601;
    return $methods{$method} = $ok ? 1 : 0;
}

sub sidecar_ready {
    my @needed = @_;
    my $ok     = eval {
        require Sympa::SMIME::Sidecar;
        Sympa::SMIME::Sidecar->instance->call('service.version', {});
        1;
    };
    return "sidecar unavailable: $EVAL_ERROR" unless $ok;
    foreach my $method (@needed) {
        return "sidecar lacks $method" unless has_method($method);
    }
    return '';
}

# Ends the test file here (one skip) unless the sidecar knows @methods.
sub done_unless_sidecar {
    my $why = sidecar_ready(@_) or return;
    Prerequisite::missing($why);
    exit 0;
}

sub xs_available {
    return eval { require Crypt::SMIME; require Crypt::OpenSSL::X509; 1 }
        && $Crypt::SMIME::VERSION;
}

# Runs $code with Sympa's own 6.2.70 functions (Crypt::SMIME).
sub with_originals {
    my $code = shift;
    no strict 'refs';
    no warnings 'redefine';
    my %saved;
    foreach my $name (keys %Sympa::SMIME::Shim::ORIGINAL) {
        $saved{$name} = \&{$name};
        *{$name} = $Sympa::SMIME::Shim::ORIGINAL{$name};
    }
    my @result = eval { $code->() };
    my $error  = $EVAL_ERROR;
    *{$_} = $saved{$_} foreach keys %saved;
    die $error if $error;
    return wantarray ? @result : $result[0];
}

# Runs $method (with the arguments in args) on $message: the shim's, or
# Sympa 6.2.70's own with original => 1.  Returns what the tests compare: how
# it ended, the message before and after, its flags and the log lines.
sub run_method {
    my $message = shift;
    my $method  = shift;
    my %options = @_;
    my @args    = @{$options{args} || []};

    my $before = $message->as_string;
    clear_logs();
    my $result = eval {
        my $call = sub { $message->$method(@args) };
        $options{original} ? with_originals($call) : $call->();
    };
    my $died = $EVAL_ERROR ? ($EVAL_ERROR =~ s/\s+\z//r) : undef;
    return {
        died   => $died,
        result => (
            ref $result
            ? ($result == $message ? 'self' : $result)
            : $result
        ),
        message   => $message,
        before    => $before,
        after     => $message->as_string,
        head      => $message->header_as_string,
        body      => $message->body_as_string,
        signed    => $message->{smime_signed},
        protected => $message->{protected},
        crypted   => $message->{smime_crypted},
        orig      => $message->{orig_msg_as_string},
        logs      => [logs()],
    };
}

# Sympa log lines, [level, message].
my @LOGS;
{
    no warnings 'redefine';
    *Sympa::Log::syslog = sub {
        my $self   = shift;
        my $level  = shift;
        my $format = shift;
        my @args   = map { defined $_ ? "$_" : '' } @_;
        my $errno  = "$ERRNO";
        $format =~ s/%m/$errno/g;
        no warnings qw(redundant missing);
        push @LOGS, [$level, sprintf $format, @args];
        diag "$level: $LOGS[-1][1]"
            if $ENV{TEST_VERBOSE} and $level !~ /debug/;
        return;
    };
}

sub logs {
    my $level = shift;
    return map { $_->[1] } grep { !$level or $_->[0] eq $level } @LOGS;
}
sub clear_logs { @LOGS = () }

# The log lines as [level, message].
sub logs_with_levels {
    return map { [@$_] } @LOGS;
}

# {file name => content} of a directory.
sub files_in {
    my $dir = shift;
    opendir my $dh, $dir or die "$dir: $ERRNO";
    my %files =
        map { ($_ => slurp("$dir/$_")) } grep { -f "$dir/$_" } readdir $dh;
    closedir $dh;
    return \%files;
}

# A certificate file as "openssl x509" writes it.
sub pem_of {
    my $file = shift;
    return openssl_out(undef, 'x509', '-in', $file);
}

sub corpus_dir {
    my $dir = $ENV{SYMPA_SMIME_CORPUS} || "$ROOT/t/corpus";
    return -d $dir ? abs_path($dir) : undef;
}

1;
