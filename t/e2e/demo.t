#!/usr/bin/perl
# The list part of "bash .ci/demo" (t/e2e/bin/demo-list) runs, says what the
# README shows, and leaves the machine as it found it: after a pass, after a
# failed check, and when it cannot run at all. Needs root and Debian's
# Sympa, as t/e2e/sympa-e2e.t does; see docs/e2e.md.

use strict;
use warnings;
use Cwd        qw(abs_path);
use File::Temp qw(tempdir);
use FindBin    qw($Bin);
use lib "$Bin/lib";
use Test::More;

my $REPO = abs_path("$Bin/../..");
my $DEMO = "$Bin/bin/demo-list";

plan skip_all => 'the demo runs Sympa\'s daemons as the sympa user: '
    . 'run this test as root'
    if $> != 0;
plan skip_all => 'Debian\'s sympa package is not installed '
    . '(bash .ci/setup-debian)'
    unless -x '/usr/lib/sympa/bin/sympa_msg.pl';
plan skip_all => 'no target/sympa-smime.jar: build it with '
    . 'mvn -B -q -DskipTests package'
    unless -f "$REPO/target/sympa-smime.jar";

require SympaE2E::Util;
SympaE2E::Util->import(qw(try_cmd));
require SympaE2E::Shim;
require SympaE2E::Sympa;

my ($MANIFEST, $PIDDIR) = do {
    no warnings 'once';
    ($SympaE2E::Shim::MANIFEST, $SympaE2E::Sympa::PIDDIR);
};

# What the demo must leave as it was. (new() alone changes nothing.)
my $spool = SympaE2E::Sympa->new(dir => '/nonexistent');

sub machine_state {
    return {
        'sympa-smime installed'   => (-e $MANIFEST ? 1 : 0),
        'PID files in /run/sympa' =>
            join(' ', sort map {s{.*/}{}r} glob "$PIDDIR/*.pid"),
        'demo mail in ' . $spool->incoming => join(' ', $spool->own_mail),
        'sidecars of the sympa user'       => join(' ', sidecars()),
    };
}

# Sidecars of the sympa user: other tests' sidecars run as root.
sub sidecars {
    my $uid = getpwnam('sympa') // return ();
    my @pids;
    for my $cmdline (glob '/proc/[0-9]*/cmdline') {
        next unless ((stat $cmdline)[4] // -1) == $uid;
        open my $fh, '<', $cmdline or next;
        my $args = do { local $/; <$fh> }
            // next;
        push @pids, $cmdline =~ m{(\d+)} if $args =~ /sympa-smime\.jar/;
    }
    return sort { $a <=> $b } @pids;
}

sub run_demo {
    my @args = @_;
    my ($rc, $out, $err) =
        try_cmd(['timeout', '--kill-after=10', '300', $^X, $DEMO, @args]);
    return ($rc, $out, $err);
}

sub state_dir_gone {
    my ($out, $name) = @_;
    my ($state) = $out =~ /^state\s+(\S+)/m;
    ok($state && !-e $state, "$name: its state directory is removed")
        or diag("state: " . ($state // 'not printed'));
}

my $before = machine_state();

subtest 'the demo passes and shows the list at work' => sub {
    my ($rc, $out, $err) = run_demo();
    is($rc, 0, 'demo-list exits 0') or diag("stdout:\n$out\nstderr:\n$err");
    like($out, qr/^demo passed: a list at work in \d+ s$/m, 'it says so');
    like(
        $out,
        qr/^Sympa\s+decrypted it, found alice's signature valid .*sent 3 messages/m,
        'Sympa decrypted the post and checked its signature'
    );
    like(
        $out,
        qr/^sidecars\s+[1-9]\d* java process/m,
        'sidecars ran under the daemons'
    );
    for my $who (qw(alice bob)) {
        like(
            $out,
            qr/^copy\ to\ $who\@example\.net\n
               \s+envelope\s+one\ recipient:\ $who\@example\.net\n
               \s+type\s+application\/pkcs7-mime;\ smime-type="?enveloped-data"?\n
               \s+opens\s+with\ ${who}'s\ key\ \(openssl\ cms\ -decrypt\)[^\n]*\n
               \s+signed\s+by\ alice\@example\.net\ inside,\ verifies[^\n]*\n
               \s+\|\ Hello\ list,\n/mx,
            "${who}'s copy: one recipient, enveloped-data, opened by "
                . 'that subscriber\'s key, alice\'s signature inside, the text'
        );
    }
    like(
        $out,
        qr/^notice\ to\ carol\@example\.net\ \(no\ certificate\)\n
           \s+subject\s+encrypted\ message\ for\ list\ secure\@[^\n]*
           x509-user-cert-missing/mx,
        'carol gets the x509-user-cert-missing notice'
    );
    like($out, qr/^in clear\s+nothing:/m, 'nothing went out in clear');
    state_dir_gone($out, 'after a pass');
};

subtest 'a failed check ends the demo, cleaned up' => sub {
    # No time at all to wait for Sympa's mail: the demo must fail there,
    # with the daemons running and the post perhaps still in the spool.
    my ($rc, $out, $err) = run_demo('--timeout', '0');
    is($rc, 1, 'demo-list exits 1') or diag("stdout:\n$out\nstderr:\n$err");
    like(
        $err,
        qr/^demo FAILED: no mail for all three subscribers within 0 s$/m,
        'it says which check failed'
    );
    like($err, qr/^last lines of Sympa's log:/m, 'it shows Sympa\'s log');
    unlike($err, qr/NOT cleaned up/, 'it reports nothing left behind');
    state_dir_gone($out, 'after a failure');
};

subtest 'without the sidecar\'s jar the demo does not start' => sub {
    my $empty = tempdir(CLEANUP => 1);
    my ($rc, $out, $err) = run_demo('--source', $empty);
    is($rc, 2, 'demo-list exits 2');
    like(
        $err,
        qr/^demo-list: no \Q$empty\E\/\S+ in the repository$/m,
        'it names what is missing'
    );
    is($out, '', 'it starts nothing');
};

is_deeply(machine_state(), $before,
          'the machine is as it was: sympa-smime, /run/sympa, the spool, '
        . 'no sidecar left');

done_testing;
