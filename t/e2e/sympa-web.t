#!/usr/bin/perl
# End-to-end suite, the web path (issue 9): Debian's Sympa 6.2.70 web
# interface, wwsympa.fcgi under multiwatch behind Apache with mod_ssl and
# mod_proxy_fcgi, as Debian runs it, on a port of its own; curl logs in
# with client certificates and downloads the list certificate. Two
# backends side by side: "shim", with the environment of the drop-in
# sympa-smime-enable writes for wwsympa.service, and "stock", without it
# (Crypt::SMIME and Crypt::OpenSSL::X509).
#
#   SYMPA_SMIME_E2E_WEB_DIR  state directory, wiped at start and kept
#                            afterwards (default /var/lib/sympa-smime-e2e-web;
#                            not under a sticky directory such as /var/tmp,
#                            where sympa-smime.conf would be refused)
#
# Must run as root. Like sympa-e2e.t it runs sympa-smime-enable and
# -disable, which change /usr/share/sympa-smime for every Sympa program of
# the machine: where other e2e runs may happen at the same time, run it
# under "flock /tmp/sympa-daemons.lock" as they do. See docs/e2e.md.

use strict;
use warnings;
use Cwd     qw(abs_path);
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);

my $REPO   = abs_path("$Bin/../..");
my $STATE  = $ENV{SYMPA_SMIME_E2E_WEB_DIR} || '/var/lib/sympa-smime-e2e-web';
my $DOMAIN = 'lists.example.org';
my $IDLE   = 3;    # idle_timeout of the web children's sidecars

require SympaE2E::Web;
require SympaE2E::Shim;

# In CI everything is installed first (.ci/setup-debian): a missing piece
# there is a broken set-up, not a reason to skip.
sub cannot_run {
    my $why = shift;
    if ($ENV{CI}) {
        plan tests => 1;
        fail("the web suite cannot run: $why");
        exit;
    }
    plan skip_all => $why;
}
cannot_run('must run as root (it runs Apache and wwsympa.fcgi as '
        . 'www-data and sympa)')
    if $> != 0;
my @missing = SympaE2E::Web::missing();
cannot_run("missing @missing: run \"bash .ci/setup-debian\" as root")
    if @missing;
my $shim = SympaE2E::Shim->new(repo => $REPO);
cannot_run($shim->why_unavailable) unless $shim->available;

require SympaE2E::Sympa;
require SympaE2E::PKI;
require SympaE2E::Util;
SympaE2E::Util->import(qw(run_cmd read_file write_file wait_until));

my $started = time;
my $sympa   = SympaE2E::Sympa->new(dir => $STATE, private_queue => 1);
my ($pki, $web, %users, $list, $list_der);

my $cleaned;

sub cleanup {
    return if $cleaned++;
    eval { $web->stop if $web };
    eval { $shim->restore };
}
END { cleanup() }
$SIG{$_} = sub { cleanup(); exit 1 }
    for qw(INT TERM HUP);

# The page wwsympa shows a user logged in: the address in the user menu
# (user_menu.tt2), and no login form (login_menu.tt2, what an anonymous
# visitor gets).
sub logged_in_as {
    my ($res, $email) = @_;
    return
           $res->{status} == 200
        && $res->{body} =~ m{fa-user"></i>\s*\Q$email\E\s*<}
        && $res->{body} !~ /name="action_login"/;
}

# One line about an answer; the page itself is kept in the state directory.
my $pages = 0;

sub describe {
    my $res   = shift;
    my $title = $res->{body} =~ m{<title>\s*(.*?)\s*</title>}si ? $1 : '';
    my $file  = sprintf '%s/web/log/page-%02d.html', $STATE, ++$pages;
    write_file($file, $res->{body});
    return sprintf 'HTTP %s, %s, %d bytes, title "%s" (%s)%s',
        $res->{status}, $res->{content_type} || 'no type',
        length $res->{body}, $title, $file,
        $res->{error} ? "; $res->{error}" : '';
}

sub web_logs {
    return
          "Apache error log:\n"
        . $web->log_tail($web->error_log, 15)
        . join '',
        map { "wwsympa $_:\n" . $web->log_tail($web->backend_log($_), 15) }
        qw(shim stock);
}

sub login {
    my ($backend, $who) = @_;
    my $user = defined $who ? $users{$who} : undef;
    return $web->get($backend, '/wws',
        $user ? (cert => $user->{cert}, key => $user->{key}) : ());
}

# ---------------------------------------------------------------------------
subtest 'setup: a list with keys, subscribers, the shim, Apache' => sub {
    $sympa->prepare;
    $pki   = SympaE2E::PKI->new("$STATE/pki");
    %users = (
        alice => $pki->leaf('alice', email => 'alice@example.net'),
        # No keyUsage extension at all: 6.2.70's parse_cert died on it.
        nora => $pki->leaf(
            'nora',
            email => 'nora@example.net',
            usage => undef
        ),
    );
    my $text = run_cmd(
        ['openssl', 'x509', '-noout', '-text', '-in', $users{nora}{cert}]);
    unlike($text, qr/X509v3 Key Usage/, "nora's certificate has no keyUsage")
        or note $text;
    my $server = $pki->leaf('server', dns => $DOMAIN);

    $sympa->write_config(
        cafile         => $pki->root,
        key_passwd     => 'e2e web key secret',
        wwsympa_url    => "https://$DOMAIN/wws",
        supported_lang => 'en',
    );
    $sympa->init_database;
    $sympa->create_list('secure', send => 'private_smime');
    $list = $pki->leaf('list-secure', email => "secure\@$DOMAIN");
    $sympa->install_list_file('secure', 'cert.pem',
        read_file($list->{chain}));
    $sympa->install_list_file('secure', 'private_key',
        $pki->encrypted_key($list, 'e2e web key secret'), 0600);
    $sympa->add_subscribers('secure',
        map { $users{$_}{email} } qw(alice nora));
    $list_der = run_cmd(
        [   'openssl', 'x509', '-outform', 'DER', '-in',
            $sympa->list_dir('secure') . '/cert.pem'
        ]
    );

    # sympa-smime.conf as an administrator writes it, in a file of the
    # state directory rather than the machine's /etc/sympa.
    my $conf = write_file("$STATE/etc/sympa-smime.conf",
        "# sympa-smime e2e web suite\nidle_timeout = $IDLE\n", 0644);

    $shim->enable;
    my %dropin = $shim->unit_env('wwsympa.service');
    note 'wwsympa.service drop-in: ' . join ' ',
        map {"$_=$dropin{$_}"} sort keys %dropin;

    $web = SympaE2E::Web->new(
        sympa => $sympa,
        dir   => "$STATE/web",
        host  => $DOMAIN,
        cert  => write_file(
            "$STATE/pki/server.chain.pem",
            read_file($server->{cert}) . read_file($pki->intermediate)
        ),
        key       => $server->{key},
        client_ca => write_file(
            "$STATE/pki/client-ca.pem",
            read_file($pki->root) . read_file($pki->intermediate)
        ),
        cafile     => $pki->root,
        time_limit => 300,
    );
    $web->add_backend('shim',  env => {%dropin, SYMPA_SMIME_CONFIG => $conf});
    $web->add_backend('stock', children => 1);
    $web->start;
    pass(
        'Apache and two wwsympa backends run: ' . join ', ',
        map { "$_: children " . join ' ', $web->fcgi_children($_) }
            qw(shim stock)
    );
};
BAIL_OUT('the setup failed; state in ' . $STATE)
    unless Test::More->builder->is_passing;

# ---------------------------------------------------------------------------
subtest 'login by client certificate shows the subscriber' => sub {
    my $anon = login('shim', undef);
    is($anon->{status}, 200, 'the home page answers without a certificate')
        or diag describe($anon), web_logs();
    ok( !logged_in_as($anon, 'alice@example.net'),
        'without a certificate nobody is logged in'
    );

    for my $backend (qw(shim stock)) {
        my $res = login($backend, 'alice');
        ok( logged_in_as($res, 'alice@example.net'),
            "$backend: alice's certificate logs her in; the page shows "
                . 'alice@example.net'
        ) or diag describe($res), web_logs();
    }
    my @sidecars = $web->sidecars('shim');
    ok(@sidecars,
        'shim: the certificate was parsed by a sidecar, a java child of a '
            . 'wwsympa.fcgi child')
        or diag explain $web->processes('shim');
    ok(!$web->sidecars('stock'), 'stock: no sidecar');

    # Alice is a subscriber of "secure": her page of lists names it.
    my $mine = $web->get(
        'shim', '/wws/my',
        cert => $users{alice}{cert},
        key  => $users{alice}{key}
    );
    like($mine->{body}, qr{/wws/info/secure\b},
        'shim: her list page shows her subscription to secure')
        or diag describe($mine);
};

# ---------------------------------------------------------------------------
subtest 'the list certificate downloads in DER' => sub {
    for my $backend (qw(shim stock)) {
        my $res = $web->get($backend, '/wws/load_cert/secure');
        is($res->{status}, 200, "$backend: /wws/load_cert/secure answers")
            or diag describe($res), web_logs();
        is( $res->{content_type},
            'application/x-x509-email-cert',
            "$backend: as application/x-x509-email-cert"
        );
        ok( $res->{body} eq $list_der,
            "$backend: the body is the list's certificate, as openssl x509 "
                . '-outform DER writes it from cert.pem'
            )
            or diag sprintf '%d bytes, expected %d', length $res->{body},
            length $list_der;
    }
};

# ---------------------------------------------------------------------------
subtest 'a certificate without keyUsage logs in through the shim only' =>
    sub {
    my $stock = login('stock', 'nora');
    ok(!logged_in_as($stock, 'nora@example.net'),
        'stock: nora is not logged in');
    like(
        $stock->{body},
        qr/Can't call method &quot;hash_bit_string&quot; on an undefined value/,
        'stock: wwsympa shows its crash page: parse_cert died on the missing '
            . 'keyUsage'
    ) or diag describe($stock);
    note 'stock answered: ' . describe($stock);
    my $shim_res = login('shim', 'nora');
    ok( logged_in_as($shim_res, 'nora@example.net'),
        'shim: nora logs in; the page shows nora@example.net'
    ) or diag describe($shim_res), web_logs();
    my $again = login('stock', 'alice');
    ok( logged_in_as($again, 'alice@example.net'),
        'stock: the backend still serves alice afterwards'
    ) or diag describe($again);
    };

# ---------------------------------------------------------------------------
subtest "idle_timeout $IDLE s: the web children's sidecars exit" => sub {
    my @children    = $web->fcgi_children('shim');
    my $res         = login('shim', 'alice');
    my $t0          = time;
    my @after_login = $web->fcgi_children('shim');
    ok(logged_in_as($res, 'alice@example.net'), 'alice logs in')
        or diag describe($res);
    ok($web->sidecars('shim'), 'a sidecar runs after the logins')
        or return diag explain $web->processes('shim');
    my $gone = wait_until($IDLE + 20, sub { !$web->sidecars('shim') });
    my $idle = time - $t0;
    ok( $gone,
        sprintf 'no java child of a wwsympa.fcgi child is left %.1f s after '
            . 'the last request',
        $idle
    ) or diag explain $web->processes('shim');
    # Polled every 0.2 s: one that left before idle_timeout did not leave
    # for being idle.
    cmp_ok(
        $idle, '>=',
        $IDLE - 0.3,
        "none left before idle_timeout ($IDLE s)"
    );
    # Every Sympa program catches SIGCHLD (Sympa::Process) and CGI::Fast
    # fails an interrupted accept: without the shim's FCGI::Accept, the
    # child whose sidecar left ended, and multiwatch started another.
    my @now = $web->fcgi_children('shim');
    is_deeply(\@now, \@children,
        'the wwsympa.fcgi children are the same, still running')
        or diag "children before: @children; after the login: "
        . "@after_login; now: @now\n"
        . $web->log_tail($web->backend_log('shim'), 5);
    # An exited sidecar stays a zombie (no memory) until its child's next
    # S/MIME call reaps it: SIGCHLD waits while the child waits.
    ok( !(  grep { $_->[1] eq 'java' && $_->[2] ne 'Z' }
            values %{$web->processes('shim')}
        ),
        'no java process runs anywhere in the backend'
    );
    my @zombies = $web->sidecars('shim', 'zombies');
    note "sidecars exited but not reaped yet: @zombies" if @zombies;

    $res = login('shim', 'nora');
    ok(logged_in_as($res, 'nora@example.net'),
        'the next login by certificate starts a sidecar again')
        or diag describe($res), web_logs();
    ok($web->sidecars('shim'), 'a sidecar runs again');
};

# ---------------------------------------------------------------------------
subtest 'teardown: nothing left running' => sub {
    $web->stop;
    ok(!%{$web->all_processes}, 'no process of Apache or the backends left')
        or diag explain $web->all_processes;
    cleanup();
    note sprintf 'the web suite took %.0f s', time - $started;
};

done_testing;
