# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# perl/bin/sympa-smime certs, run as a command against a real Sympa 6.2.70
# instance (configuration, SQLite database, a list with subscribers, made by
# the e2e harness without starting daemons) and the real sidecar, on a
# deliberately mixed ssl_cert_dir: valid, expiring, expired, untrusted,
# revoked, EC, sign-only, encryption-only, an escaped file name, a file
# without a certificate.  --list is checked against what the shim's
# smime_encrypt actually does for each subscriber.
use strict;
use warnings;
use English    qw(-no_match_vars);
use Fcntl      qw(:flock);
use File::Path qw(make_path);
use File::Temp qw();
use JSON::PP   qw();
use Test::More;

use lib 't/lib', 't/e2e/lib';
use SMIMETest;
use TrustedTmp qw(trusted_tempdir);

plan skip_all => 'runs Sympa\'s programs as the sympa user: run as root'
    unless $EUID == 0 and getpwnam 'sympa';
done_unless_sidecar(qw(x509.check x509.parse smime.encrypt));
Sympa::SMIME::Sidecar->instance->shutdown;
require SympaE2E::Sympa;

my $COMMAND = "$ROOT/perl/bin/sympa-smime";
my $DOMAIN  = 'lists.example.org';
my $pki     = pki();
my $tmp     = File::Temp->newdir(DIR => "$ROOT/t/tmp");
chmod 0755, "$tmp";

# The e2e harness lays out its state directory and checks the incoming spool
# it shares with the machine's Sympa: one at a time (docs/e2e.md).
my $sympa = SympaE2E::Sympa->new(dir => "$tmp/sympa", domain => $DOMAIN);
{
    open my $lock, '>', '/tmp/sympa-daemons.lock' or die $ERRNO;
    flock $lock, LOCK_EX;
    $sympa->prepare;
    close $lock;
}
$sympa->write_config(cafile => $pki->{cafile});
$sympa->init_database;
$sympa->create_list('secure');

my $made = "$tmp/made";
make_path($made);
my $soon =
    issue_cert($made, 'soon',
    '/C=FR/O=Test Org/CN=Soon/emailAddress=soon@example.org',
    days => 10);
my $escaped = issue_cert($made, 'oneil',
    "/C=FR/O=Test Org/CN=O'Neil/emailAddress=o'neil&co\@example.org");
my $revoked = issue_cert($made, 'revoked',
    '/C=FR/O=Test Org/CN=Revoked/emailAddress=revoked@example.org');
my $crl = revoking_crl($made, $revoked);
# Signing only, under the name Sympa gives a certificate for both purposes.
my $signer = issue_cert(
    $made, 'signer',
    '/C=FR/O=Test Org/CN=Signer/emailAddress=signer@example.org',
    extensions => 'sign'
);
chmod 0755, $made;
chmod 0644, glob "$made/*";

# Sympa's file names: escaped address, @sign / @enc for one purpose.
my $dir   = $sympa->cert_dir;
my %FILES = (
    'alice@example.org'         => $pki->{crt}{alice},
    'soon@example.org'          => $soon,
    'expired@example.org'       => $pki->{crt}{expired},
    'untrusted@example.org'     => $pki->{crt}{untrusted},
    'revoked@example.org'       => $revoked,
    'ec@example.org'            => $pki->{crt}{ec},
    'sigonly@example.org@sign'  => $pki->{crt}{sigonly},
    'enconly@example.org@enc'   => $pki->{crt}{enconly},
    'o_27neil_26co@example.org' => $escaped,
    'signer@example.org'        => $signer,
);

foreach my $file (keys %FILES) {
    spurt("$dir/$file", slurp($FILES{$file}));
}
spurt("$dir/junk\@example.org", "not a certificate\n");
spurt("$dir/.hidden",           "ignored\n");
system 'chown', '-R', 'sympa:sympa', $dir;

# The sidecar's own settings: the CRL, nothing from /etc; in a directory
# they are trusted in.
my $settings   = trusted_tempdir();
my $smime_conf = spurt("$settings/sympa-smime.conf", "crl_path = $crl\n");
my $no_crl     = spurt("$settings/no-crl.conf",      '');
$ENV{SYMPA_SMIME_CONFIG} = $smime_conf;
delete @ENV{grep {/\ASYMPA_SMIME_(?!JAR|JAVA|CONFIG)/} keys %ENV};

my $CONFIG = $sympa->config;

# Runs the command; returns (exit status, stdout, stderr).
sub run_command {
    my @args = @_;
    my $out  = "$tmp/out";
    my $err  = "$tmp/err";
    my $pid  = open my $null, '-|' or do {
        open STDOUT, '>', $out or die $ERRNO;
        open STDERR, '>', $err or die $ERRNO;
        exec $EXECUTABLE_NAME, $COMMAND, @args;
        die $ERRNO;
    };
    close $null;
    my $status = $CHILD_ERROR >> 8;
    my ($stdout, $stderr) = (slurp($out), slurp($err));
    utf8::decode($_) foreach $stdout, $stderr;
    return ($status, $stdout, $stderr);
}

sub certs {
    return run_command('certs', '--config', $CONFIG, @_);
}

sub json_of {
    my ($what, $text) = @_;
    my $data = eval { JSON::PP->new->decode($text) };
    ok $data, "$what: --json prints one JSON object" or diag $text;
    return $data || {};
}

# --- the listing ----------------------------------------------------------

my ($status, $out, $err) = certs('--json', '--keep-user');
is $status, 0, 'listing: exit 0' or diag $err;
my $listing = json_of('listing', $out);
my %by_file = map { ($_->{file} => $_) } @{$listing->{certificates} || []};
is_deeply [sort keys %by_file], [sort keys %FILES, 'junk@example.org'],
    'every file but the dot file is listed';

my %EXPECT = (
    'alice@example.org'   => ['alice@example.org',   'valid',    'sign enc'],
    'soon@example.org'    => ['soon@example.org',    'expiring', 'sign enc'],
    'expired@example.org' => ['expired@example.org', 'expired',  'sign enc'],
    'untrusted@example.org' =>
        ['untrusted@example.org', 'untrusted', 'sign enc'],
    'revoked@example.org' => ['revoked@example.org', 'revoked', 'sign enc'],
    'ec@example.org'      => ['ec@example.org',      'valid',   'sign enc'],
    'sigonly@example.org@sign'  => ['sigonly@example.org', 'valid', 'sign'],
    'enconly@example.org@enc'   => ['enconly@example.org', 'valid', 'enc'],
    'o_27neil_26co@example.org' =>
        ["o'neil&co\@example.org", 'valid', 'sign enc'],
    'signer@example.org' => ['signer@example.org', 'valid',      'sign'],
    'junk@example.org'   => ['junk@example.org',   'unreadable', ''],
);
foreach my $file (sort keys %EXPECT) {
    my $entry = $by_file{$file} || {};
    my ($address, $state, $purposes) = @{$EXPECT{$file}};
    is $entry->{address}, $address, "$file: address";
    is $entry->{status}, $state, "$file: $state"
        or diag explain $entry;
    is join(' ', @{$entry->{purposes} || []}), $purposes,
        "$file: purposes '$purposes'";
}
is $by_file{'untrusted@example.org'}{reason}, 'untrusted_chain',
    'untrusted: the verifier\'s reason';
like $by_file{'revoked@example.org'}{detail}, qr/revoked/i,
    'revoked: the CRL\'s verdict';
like $by_file{'alice@example.org'}{issuer}, qr/CN=Test CA/, 'issuer';
# 10 when checked within the second it was issued.
like $by_file{'soon@example.org'}{days_left}, qr/\A(?:9|10)\z/,
    'days left of a certificate issued for 10 days';
is $by_file{'sigonly@example.org@sign'}{named}, 'sign', '@sign file';
like $by_file{'ec@example.org'}{key}, qr/\AEC 256 prime256v1\z/, 'EC key';
is_deeply $by_file{'alice@example.org'}{notes}, [], 'no note when all fits';
is_deeply $by_file{'signer@example.org'}{notes},
    [
    'named as for signing and encryption, but the certificate is for sign only'
    ],
    'a note when the name does not fit the purposes';
is_deeply $listing->{summary},
    {
    valid      => 6,
    expiring   => 1,
    expired    => 1,
    untrusted  => 1,
    revoked    => 1,
    unreadable => 1
    },
    'summary';

($status, $out) = certs('--keep-user');
is $status, 0, 'text listing: exit 0';
like $out,
    qr/^alice\@example\.org  valid  sign,enc  \d+ days left \(until .* GMT\)\n    file alice\@example\.org; issuer .*CN=Test CA/m,
    'text: address, status, purposes, days left, file, issuer';
like $out,
    qr/^untrusted\@example\.org  untrusted .*\n.*\n    untrusted_chain: /m,
    'text: the reason of an untrusted certificate';
like $out,
    qr/^o'neil&co\@example\.org  valid .*\n    file o_27neil_26co\@example\.org;/m,
    'text: the escaped file name of its address';
like $out,
    qr/: 11 files: 6 valid, 1 expiring, 1 expired, 1 untrusted, 1 revoked, 1 unreadable$/m,
    'text: the count';

# Without crl_path nothing is revoked.
{
    local $ENV{SYMPA_SMIME_CONFIG} = $no_crl;
    ($status, $out) = certs('--json', '--keep-user');
    my %entry = map { ($_->{file} => $_) }
        @{json_of('no crl_path', $out)->{certificates} || []};
    is $entry{'revoked@example.org'}{status}, 'valid',
        'without crl_path: the revoked certificate is valid';
}

# CRLs that cannot be read stop the command: no verdict would be right.
{
    local $ENV{SYMPA_SMIME_CONFIG} =
        spurt("$settings/bad-crl.conf", "crl_path = $tmp/no-such.crl\n");
    ($status, undef, $err) = certs('--keep-user');
    is $status, 3, 'an unreadable crl_path: exit 3';
    like $err, qr/file_unreadable: .*no-such\.crl/, '... says so';
}

# --- --expiring, --days -----------------------------------------------------

($status, $out) = certs('--expiring', 30, '--keep-user');
is $status, 1, '--expiring 30: exit 1';
like $out, qr/\Asoon\@example\.org  expiring /, '--expiring 30: soon listed';
unlike $out, qr/alice|expired\@/, '--expiring 30: nothing else listed';
like $out, qr/^1 certificate of \S+ expires within 30 days$/m,
    '--expiring 30: the count';
($status, $out) = certs('--expiring', 5, '--keep-user');
is $status, 0, '--expiring 5: exit 0';
is $out, '',   '--expiring 5: nothing to say (cron mails only when there is)';
($status, $out) = certs('--expiring', 30, '--json', '--keep-user');
is $status, 1, '--expiring --json: exit 1';
my $expiring = json_of('--expiring', $out);
is_deeply [map { $_->{file} } @{$expiring->{certificates} || []}],
    ['soon@example.org'], '--expiring --json: soon only';
is $expiring->{exit_status}, 1, '--expiring --json: exit_status';
($status, $out) = certs('--days', 5, '--json', '--keep-user');
is( (   grep { $_->{file} eq 'soon@example.org' }
            @{json_of('--days 5', $out)->{certificates}}
    )[0]{status},
    'valid',
    '--days 5: soon is valid'
);

# --- --list -----------------------------------------------------------------

my @SUBSCRIBERS = qw(alice@example.org soon@example.org expired@example.org
    untrusted@example.org revoked@example.org ec@example.org
    sigonly@example.org enconly@example.org o'neil&co@example.org
    signer@example.org nobody@example.org junk@example.org);
$sympa->add_subscribers('secure', @SUBSCRIBERS);

($status, $out, $err) = certs('--list', 'secure', '--json');
is $status, 1, '--list: exit 1 when a subscriber has no usable certificate'
    or diag $err;
my $list = json_of('--list', $out);
is $list->{list},       "secure\@$DOMAIN",   '--list: the list';
is $list->{recipients}, scalar @SUBSCRIBERS, '--list: every subscriber';
my %missing = map { ($_->{email} => $_) } @{$list->{missing} || []};

# The real thing: the shim's smime_encrypt() on each subscriber, with the
# same ssl_cert_dir.  Those it refuses get x509-user-cert-missing.
$Conf::Conf{ssl_cert_dir} = $dir;
my @refused = grep {
    my $message = new_message(
              "From: a\@example.org\nTo: secure\@$DOMAIN\nSubject: s\n"
            . "Content-Type: text/plain\n\nhello\n");
    not $message->smime_encrypt($_);
} @SUBSCRIBERS;
is_deeply [sort keys %missing], [sort @refused],
    '--list: exactly those smime_encrypt refuses';
is_deeply [sort keys %missing], [
    qw(expired@example.org junk@example.org nobody@example.org
        signer@example.org sigonly@example.org)
    ],
    '--list: expired, no certificate, no file, sign only';
is $missing{'nobody@example.org'}{reason}, 'file_unreadable',
    '--list: no file';
is $missing{'signer@example.org'}{reason}, 'wrong_usage',
    '--list: a signing-only certificate cannot receive';
is $missing{'sigonly@example.org'}{reason}, 'file_unreadable',
    '--list: Sympa never encrypts to an @sign file';
is $missing{'enconly@example.org'}, undef,
    '--list: the @enc file is the one Sympa encrypts to';

($status, $out) = certs('--list', "secure\@$DOMAIN");
is $status, 1, '--list LIST@ROBOT: exit 1';
like $out,
    qr/\Asecure\@\Q$DOMAIN\E: 12 subscribers receive posts, 5 without a usable encryption certificate \(they get x509-user-cert-missing/,
    '--list: text summary';
like $out,
    qr/^  signer\@example\.org: wrong_usage: .* \(signer\@example\.org\)$/m,
    '--list: text line';
($status, undef, $err) = certs('--list', 'nosuchlist');
is $status, 2, '--list of no list: exit 2';
like $err, qr/no list nosuchlist\@\Q$DOMAIN\E/, '--list of no list: says so';
($status, undef, $err) = certs('--list', 'secure@no.such.robot');
is $status, 2, '--list of no robot: exit 2';

# --- show -------------------------------------------------------------------

($status, $out) = certs('show', 'Alice@Example.org', '--keep-user');
is $status, 0, 'show: exit 0';
like $out, qr/^    chain: ok$/m,          'show: the path validates';
like $out, qr/^    encryption: usable$/m, 'show: it can receive';
like $out, qr/^    SHA-256 [0-9A-F:]+$/m, 'show: fingerprint';
like $out,
    qr/^alice\@example\.org: encrypted mail goes to alice\@example\.org$/m,
    'show: the file Sympa encrypts to';
($status, $out) =
    certs('show', 'sigonly@example.org', '--json', '--keep-user');
my $shown = json_of('show', $out);
is $shown->{encrypt_file}, 'sigonly@example.org',
    'show: no @enc file: the plain name';
ok !$shown->{usable}, 'show: ... which does not exist';
($status, undef, $err) = certs('show', 'nobody@example.org', '--keep-user');
is $status, 1, 'show of an address without certificate: exit 1';
like $err, qr/no certificate of nobody\@example\.org/, '... says so';
($status, undef, $err) = certs('show', 'not an address', '--keep-user');
is $status, 2, 'show of something else: exit 2';
like $err, qr/"not an address" is not an e-mail address/, '... says so';

# --- import -----------------------------------------------------------------

# Run as root: the command becomes sympa, so the file is Sympa's.
($status, $out, $err) = certs('import', $pki->{crt}{noku});
is $status, 0, 'import: exit 0' or diag $err;
like $out,
    qr{imported the certificate of noku\@example\.org\n  installed \Q$dir\E/noku\@example\.org \(sign and encrypt\)},
    'import: says what it installed';
is slurp("$dir/noku\@example.org"), slurp($pki->{crt}{noku}),
    'import: the certificate, as Sympa stores it';
is( (stat "$dir/noku\@example.org")[4],
    scalar getpwnam('sympa'),
    'import: owned by sympa'
);

# A single-purpose certificate replaces the plain name, and the other way.
spurt("$dir/nonrep\@example.org", slurp($pki->{crt}{alice}));
($status, $out) = certs('import', $pki->{crt}{nonrep}, '--json');
my $imported = json_of('import', $out);
is_deeply $imported->{installed},
    [{file => 'nonrep@example.org@sign', purposes => 'sign'}],
    'import: nonRepudiation only: @sign';
is_deeply $imported->{removed}, ['nonrep@example.org'],
    'import: the plain file it replaces is removed';
ok !-e "$dir/nonrep\@example.org", '... gone';

# The address is the file's, given or not; a certificate with several
# addresses needs --address.
($status, undef, $err) = certs('import', $pki->{crt}{multi});
is $status, 2, 'import of several addresses: exit 2';
like $err, qr/several addresses .*--address/, '... asks for --address';
($status, $out, $err) =
    certs('import', $pki->{crt}{multi}, '--address', 'Second@Example.org');
is $status, 0, 'import --address: exit 0' or diag $err;
ok -f "$dir/second\@example.org", 'import --address: the canonical name';
($status, undef, $err) =
    certs('import', $pki->{crt}{alice}, '--address', 'bob@example.org');
is $status, 2, 'import for an address the certificate lacks: exit 2';
like $err, qr/no certificate of the file names bob\@example\.org/,
    '... says so';
ok !-e "$dir/bob\@example.org", '... and installs nothing';

# What Sympa's verifier refuses is refused.
foreach my $case (
    [untrusted => 'untrusted_chain'],
    [expired   => 'expired'],
    [chained   => 'untrusted_chain'],
) {
    my ($name, $reason) = @$case;
    ($status, undef, $err) = certs('import', $pki->{crt}{$name});
    is $status, 2, "import $name: exit 2";
    like $err, qr/refused, as Sympa would not store it .*: $reason: /,
        "import $name: $reason";
}
ok !-e "$dir/chained\@example.org", 'a refused import installs nothing';
spurt(
    "$made/chained.pem",
    slurp($pki->{crt}{chained}),
    slurp($pki->{crt}{inter})
);
chmod 0644, "$made/chained.pem";
($status, undef, $err) = certs('import', "$made/chained.pem");
is $status, 0, 'import with its intermediate in the file: exit 0'
    or diag $err;
is slurp("$dir/chained\@example.org"), slurp($pki->{crt}{chained}),
    '... the certificate alone is installed';
($status, undef, $err) = certs('import', "$dir/junk\@example.org");
is $status, 2, 'import of a file without certificate: exit 2';
like $err, qr/no PEM certificate in the file/, '... says so';
($status, undef, $err) = certs('import', "$tmp/no-such-file");
is $status, 2, 'import of no file: exit 2';
like $err, qr/cannot read .*no-such-file/, '... says so';

# --- remove -----------------------------------------------------------------

($status, $out) = certs('remove', 'sigonly@example.org');
is $status, 0, 'remove: exit 0';
like $out, qr{removed \Q$dir\E/sigonly\@example\.org\@sign},
    'remove: says what';
ok !-e "$dir/sigonly\@example.org\@sign", 'remove: gone';
($status, undef, $err) = certs('remove', 'sigonly@example.org');
is $status, 1, 'remove again: exit 1';
like $err, qr/no certificate of sigonly\@example\.org/, '... says so';

# --- the command and its errors ---------------------------------------------

($status, $out) = run_command('doctor', '--help');
is $status, 0, 'doctor: runs sympa-smime-doctor';
like $out, qr/usage: sympa-smime-doctor/, '... its usage';
($status, undef, $err) = run_command();
is $status, 2, 'no command: exit 2';
like $err, qr/a command is needed/, '... says so';
($status, undef, $err) = run_command('frob');
is $status, 2, 'unknown command: exit 2';
($status, undef, $err) = certs('frob');
is $status, 2, 'unknown action: exit 2';
like $err, qr/unknown certs action "frob"/, '... says so';
($status, undef, $err) = certs('--expiring', -1);
is $status, 2, 'negative days: exit 2';
($status, undef, $err) = certs('show');
is $status, 2, 'show without an address: exit 2';
($status, undef, $err) =
    run_command('certs', '--config', "$tmp/no-such.conf");
is $status, 3, 'a configuration that cannot be loaded: exit 3';
like $err, qr/cannot load/, '... says so';

{
    local $ENV{SYMPA_SMIME_JAVA} = "$tmp/no-such-java";
    ($status, undef, $err) = certs('--keep-user');
    is $status, 3, 'a sidecar that does not start: exit 3';
    like $err, qr/sidecar_unavailable: .*no-such-java/, '... says why';
}

# A cafile that cannot be read stops the command with the sidecar's reason.
my $conf = slurp($CONFIG);
$conf =~ s/^cafile\s.*$/cafile\t$tmp\/no-such-ca.pem/m;
my $broken = spurt("$tmp/broken.conf", $conf);
chmod 0644, $broken;
($status, $out, $err) =
    run_command('certs', '--config', $broken, '--json', '--keep-user');
is $status, 3, 'an unreadable cafile: exit 3';
like json_of('unreadable cafile', $out)->{error},
    qr/\Atrust_store_unreadable: /,
    '... with the reason';
$conf =~ s/^ssl_cert_dir\s.*$/ssl_cert_dir\t$tmp\/no-such-dir/m;
spurt($broken, $conf);
($status, undef, $err) =
    run_command('certs', '--config', $broken, '--keep-user');
is $status, 3, 'no ssl_cert_dir: exit 3';
like $err, qr/ssl_cert_dir \S+no-such-dir does not exist/, '... says so';

done_testing;
