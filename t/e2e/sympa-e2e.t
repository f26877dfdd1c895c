#!/usr/bin/perl
# End-to-end suite (issue 4): the Debian package of Sympa 6.2.70 runs a
# signed, encrypted list, either on its own engine (Crypt::SMIME, "stock"
# mode) or through the sympa-smime shim and sidecar ("shim" mode).
#
#   SYMPA_SMIME_E2E_MODE  auto (default: shim when the repository has it),
#                         stock or shim
#   SYMPA_SMIME_E2E_DIR   state directory, wiped at start and kept afterwards
#                         for inspection (default /var/tmp/sympa-smime-e2e)
#   SYMPA_SMIME_E2E_SOURCE  checkout whose perl/bin/sympa-smime-enable (with
#                         its perl/lib and target/sympa-smime.jar) shim mode
#                         installs (default: this repository)
#
# Must run as root (it runs Sympa's programs as the sympa user). See
# docs/e2e.md.

use strict;
use warnings;
use Cwd     qw(abs_path);
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;

my $REPO  = abs_path("$Bin/../..");
my $STATE = $ENV{SYMPA_SMIME_E2E_DIR} || '/var/tmp/sympa-smime-e2e';

# Sympa present and root: the two preconditions. Without root there is no
# way to run Sympa's daemons as sympa; without Sympa, root can install it.
my $have_sympa = -x '/usr/lib/sympa/bin/sympa_msg.pl';
if ($> != 0) {
    plan skip_all => 'Sympa is not installed and this is not root; '
        . 'run "sudo bash .ci/setup-debian" then this test as root'
        unless $have_sympa;
    plan tests => 1;
    fail(     'the end-to-end suite must run as root: it runs Sympa\'s '
            . 'daemons as the sympa user and uses /run/sympa');
    exit;
}
unless ($have_sympa) {
    system('bash', "$REPO/.ci/setup-debian") == 0
        or BAIL_OUT('.ci/setup-debian failed to install sympa');
}

require SympaE2E::Sympa;
require SympaE2E::PKI;
require SympaE2E::Shim;
require SympaE2E::SystemService;
require SympaE2E::Util;
SympaE2E::Util->import(qw(run_cmd read_file write_file wait_until));
require SympaE2E::Mail;
SympaE2E::Mail->import(
    qw(text_entity sign_entity encrypt_entity message
        cms_verify cms_decrypt cms_certificates cert_subject)
);

my $DOMAIN     = 'lists.example.org';
my $KEY_PASSWD = 'e2e list key secret';

my $shim = SympaE2E::Shim->new(repo => $ENV{SYMPA_SMIME_E2E_SOURCE} || $REPO);
my $mode = $ENV{SYMPA_SMIME_E2E_MODE} || 'auto';
$mode = $shim->available ? 'shim' : 'stock' if $mode eq 'auto';
BAIL_OUT("SYMPA_SMIME_E2E_MODE=$mode: expected auto, stock or shim")
    unless $mode =~ /\A(?:stock|shim)\z/;
if ($mode eq 'shim' and not $shim->available) {
    BAIL_OUT('shim mode: ' . $shim->why_unavailable);
}
note "mode: $mode; state directory: $STATE";

my $sympa = SympaE2E::Sympa->new(
    dir        => $STATE,
    time_limit => ($ENV{SYMPA_SMIME_E2E_BUDGET} || 480) + 120
);
my $system_service = SympaE2E::SystemService->new;

# Whatever happens, stop what we started and restore what we stopped.
my $cleaned;

sub cleanup {
    return if $cleaned++;
    eval { $sympa->cleanup };
    eval { $shim->restore };
    eval { $system_service->restore };
}
END { cleanup() }
$SIG{$_} = sub { cleanup(); exit 1 }
    for qw(INT TERM HUP);

my (%users, %lists, $pki, @ledger, %result, %hard_failure, %skipped, @order);

our $TODO;
my $current;    # name of the scenario running, for %result

# ok() that also records the scenario's real outcome, TODO or not.
sub check($$@) {
    my ($ok, $name, @diag) = @_;
    ok($ok, $name) or diag(@diag);
    $result{$current} &&= $ok ? 1 : 0;
    $hard_failure{$current} = 1 unless $ok or $TODO;
    return $ok;
}

# A known limitation of the stock engine: its checks are TODO in stock mode.
sub stock_limitation {
    $mode eq 'stock' ? "stock Sympa 6.2.70: $_[0]" : undef;
}

sub scenario {
    my ($name, $code) = @_;
    $current = $name;
    push @order, $name;
    $result{$name} = 1;
    my $mark = $sympa->log_mark;
    my $ok   = subtest $name => sub {
        if (@order > 1 and not $result{$order[0]}) {
            $skipped{$name} = 1;
            plan skip_all => 'the setup failed';
        }
        # A scenario that dies is a failed scenario; the next ones still run.
        # (plan skip_all unwinds with a Test::Builder::Exception: let it.)
        eval { $code->(); 1 } or do {
            die $@ if ref $@ and $@->isa('Test::Builder::Exception');
            check(0, 'the scenario ran to its end', "died: $@");
        };
    };
    $result{$name} = 'skipped' if $skipped{$name};
    unless ($ok and not $hard_failure{$name}) {
        $result{$name} = 0;
        diag("Sympa log of this scenario:\n" . log_excerpt($mark));
    }
}

# The scenario's log, without the debug levels.
sub log_excerpt {
    my $mark  = shift;
    my @lines = grep { !/^debug\d?\s/ } split /\n/, $sympa->log_since($mark);
    splice @lines, 0, @lines - 80 if @lines > 80;
    return join '', map {"  $_\n"} @lines;
}

# Hands a message to Sympa and records it for the final accounting.
sub post {
    my (%m) = @_;
    my ($bytes, $id) = message(
        from    => $m{from}{email},
        to      => "$m{to}\@$DOMAIN",
        subject => $m{subject},
        mime    => $m{mime},
    );
    $sympa->inject($m{to}, $bytes);
    my $entry = {%m, id => $id, bytes => $bytes};
    push @ledger, $entry;
    return $entry;
}

# Captured copies of a posted message (same Message-ID).
sub copies_of {
    my $entry = shift;
    return
        grep { ($_->header('Message-ID') // '') eq $entry->{id} }
        $sympa->captures;
}

# Replies of sympa@ (command reports, help) to $email.
sub replies_to {
    my $email = shift;
    return
        grep { $_->is_to($email) && $_->from eq "sympa-request\@$DOMAIN" }
        $sympa->captures;
}

# Captured mail to $email whose bytes mention $entry (by Message-ID):
# notices and reports quoting the message.
sub notices_about {
    my ($entry, $email) = @_;
    (my $bare = $entry->{id}) =~ s/[<>]//g;
    return grep {
               $_->is_to($email)
            && ($_->header('Message-ID') // '') ne $entry->{id}
            && index($_->bytes, $bare) >= 0
    } $sympa->captures;
}

sub lf { my $s = shift; $s =~ s/\r\n/\n/g; return $s }

# Every wait shares one budget, so that a broken run still ends in time.
my $DEADLINE = time + ($ENV{SYMPA_SMIME_E2E_BUDGET} || 480);

sub budget {
    my $max  = shift;
    my $left = $DEADLINE - time;
    return $left < 5 ? 5 : $left < $max ? $left : $max;
}

# Waits for $cond (a daemon dying ends the wait), then for the spools to
# drain.
sub wait_for {
    my ($what, $cond) = @_;
    my $ok =
        wait_until(budget(90), sub { $cond->() || !$sympa->daemons_alive });
    my $alive = $sympa->daemons_alive;
    check($ok && $alive,
        $what, $alive ? () : "a daemon died:\n" . $sympa->log_tail(30));
    $sympa->settle(budget(30));
}

plan tests => 10;

# ---------------------------------------------------------------------------
scenario 'setup: PKI, configuration, lists, subscribers, certificates' =>
    sub {
    $system_service->stop_if_running;
    $sympa->prepare;
    $SympaE2E::Mail::TMPDIR = "$STATE/tmp";
    mkdir $SympaE2E::Mail::TMPDIR, 0700;

    $pki = SympaE2E::PKI->new("$STATE/pki");
    my $capath = "$STATE/capath";
    mkdir $capath;
    write_file("$capath/root.pem", read_file($pki->root), 0644);
    run_cmd(['openssl', 'rehash', $capath]);

    %users = (
        alice => $pki->leaf('alice', email => 'alice@example.net'),
        bob   =>
            $pki->leaf('bob', email => 'bob@example.net', key_type => 'ec'),
        dave     => $pki->leaf('dave',     email => 'dave@example.net'),
        stranger => $pki->leaf('stranger', email => 'stranger@example.net'),
        carol    => {name => 'carol', email => 'carol@example.net'},
        eve      => {name => 'eve',   email => 'eve@example.net'},
        frank    => {name => 'frank', email => 'frank@example.net'},
    );

    $sympa->write_config(
        cafile     => $pki->root,
        capath     => $capath,
        key_passwd => $KEY_PASSWD,
    );
    $sympa->init_database;

    # "secure": one key pair, cert.pem = leaf + intermediate, PKCS#8 key
    # under key_passwd; only S/MIME-signed posts and subscriptions.
    $sympa->create_list(
        'secure',
        send      => 'private_smime',
        subscribe => 'smime'
    );
    $lists{secure} = $pki->leaf('list-secure', email => "secure\@$DOMAIN");
    $sympa->install_list_file('secure', 'cert.pem',
        read_file($lists{secure}{chain}));
    $sympa->install_list_file('secure', 'private_key',
        $pki->encrypted_key($lists{secure}, $KEY_PASSWD), 0600);

    # "split": separate signing and encryption keys (find_keys looks for
    # cert.pem.sign/private_key.sign and cert.pem.enc/private_key.enc), the
    # keys in the traditional encrypted PEM form; subscribers post freely.
    $sympa->create_list('split', send => 'private', subscribe => 'open');
    $lists{split_sign} = $pki->leaf(
        'list-split-sign',
        email => "split\@$DOMAIN",
        usage => 'digitalSignature'
    );
    $lists{split_enc} = $pki->leaf(
        'list-split-enc',
        email => "split\@$DOMAIN",
        usage => 'keyEncipherment'
    );
    for my $use (qw(sign enc)) {
        my $leaf = $lists{"split_$use"};
        $sympa->install_list_file('split', "cert.pem.$use",
            read_file($leaf->{chain}));
        $sympa->install_list_file('split', "private_key.$use",
            $pki->encrypted_key($leaf, $KEY_PASSWD, traditional => 1), 0600);
    }

    for my $list (qw(secure split)) {
        $sympa->install_list_file($list, 'message_footer',
            "E2E-FOOTER of list $list\n");
        $sympa->add_subscribers($list,
            map { $users{$_}{email} } qw(alice bob carol));
        is_deeply(
            [sort $sympa->subscribers($list)],
            [sort map { $users{$_}{email} } qw(alice bob carol)],
            "$list has alice, bob and carol"
        );
    }

    if ($mode eq 'shim') {
        $sympa->set_daemon_env($shim->enable);
        note 'shim enabled by sympa-smime-enable: ' . join ' ',
            $shim->describe;
    }
    $sympa->start_daemons;
    ok($sympa->daemons_alive, 'sympa_msg.pl and bulk.pl are running');

    # Alice (RSA) and Bob (EC) send a signed command to sympa@ so that Sympa
    # harvests their certificates.
    for my $who (qw(alice bob)) {
        post(
            from    => $users{$who},
            to      => 'sympa',
            subject => "e2e setup: certificate of $who",
            mime    => sign_entity(
                text_entity("help\n"), $users{$who}, $pki->intermediate
            ),
        );
    }
    my $certs = $sympa->cert_dir;
    wait_for(
        'certificates of alice and bob harvested into ssl_cert_dir',
        sub {
            glob("$certs/alice\@example.net*")
                && glob("$certs/bob\@example.net*");
        }
    );
    note 'ssl_cert_dir: ' . join ' ', map {s{.*/}{}r} glob "$certs/*";
    };

# ---------------------------------------------------------------------------
scenario '1. signed post: authorized by smime, distributed unaltered' => sub {
    my $mark  = $sympa->log_mark;
    my $entry = signed_post('secure', 'e2e 1: signed post');
    check_signed_distribution($entry, $mark);
};

sub signed_post {
    my ($list, $subject) = @_;
    my $entity =
        text_entity("Signed post to $list.\nToken: " . token() . "\n");
    return post(
        from    => $users{alice},
        to      => $list,
        subject => $subject,
        mime    => sign_entity($entity, $users{alice}, $pki->intermediate),
        entity  => $entity,
    );
}

# Waits for the copies of a post to alice, bob and carol; returns them all.
sub distributed_copies {
    my $entry = shift;
    my @want  = map { $users{$_}{email} } qw(alice bob carol);
    wait_for(
        'copies sent to alice, bob and carol',
        sub {
            my %r = map { $_ => 1 } map { $_->rcpt } copies_of($entry);
            !grep { !$r{$_} } @want;
        }
    );
    my @copies = copies_of($entry);
    check(scalar @copies, 'the post was distributed');
    return @copies;
}

sub check_signed_distribution {
    my ($entry, $mark) = @_;
    my @copies    = distributed_copies($entry) or return;
    my $sent_body = lf((split /\n\n/, $entry->{bytes}, 2)[1]);
    for my $copy (@copies) {
        my $to = join ',', $copy->rcpt;
        check(
            $copy->content_type eq 'multipart/signed',
            "copy to $to is still multipart/signed",
            $copy->content_type
        );
        check(index($copy->bytes, 'E2E-FOOTER') < 0,
            "copy to $to has no footer");
        check(lf($copy->body) eq $sent_body,
            "copy to $to has the body that was sent, byte for byte");
        my ($ok, $content, $err) = cms_verify($copy->bytes, $pki->root);
        check(
            $ok,
            "copy to $to verifies with openssl cms -verify against the root",
            $err
        );
        check(
            lf($content) eq lf($entry->{entity}),
            "copy to $to carries the signed content"
        );
    }
    my $log = $sympa->log_since($mark);
    check(
        $log =~ /authz\(Sympa::Scenario <send\.private_smime;[^>]*>, smime,/,
        'the send scenario was evaluated with the smime auth method'
    );
}

my $tokens = 0;
sub token { sprintf 'T%d-%d-%04d', time, $$, ++$tokens }

# ---------------------------------------------------------------------------
scenario '2. unsigned post: rejected with a notice, not distributed' => sub {
    my $mark   = $sympa->log_mark;
    my $entity = text_entity("Unsigned post.\nToken: " . token() . "\n");
    my $entry  = post(
        from    => $users{alice},
        to      => 'secure',
        subject => 'e2e 2: unsigned post',
        mime    => $entity,
    );
    wait_for('a notice to the sender',
        sub { notices_about($entry, $users{alice}{email}) });
    my @copies = copies_of($entry);
    check(
        !@copies,
        'no copy was distributed',
        map { 'copy to ' . join(',', $_->rcpt) } @copies
    );
    my ($notice) = notices_about($entry, $users{alice}{email});
    check($notice, 'alice got a notice quoting her message') or return;
    my $log = $sympa->log_since($mark);
    check(
        $log =~ /authz\(Sympa::Scenario <send\.private_smime;[^>]*>, smtp,/,
        'the send scenario was evaluated with the smtp auth method'
    );
    check($log =~ /<secure\@\Q$DOMAIN\E> from alice\@example\.net rejected/,
        'the log shows the post rejected');
    note 'notice subject: ' . ($notice->header('Subject') // '');
    check(
        $notice->content_type eq 'multipart/signed',
        'the notice is signed (the list has keys)',
        $notice->content_type
    ) or return;
    # Scenario 6 is about the chain; here the intermediate is given.
    my ($ok, undef, $err) =
        cms_verify($notice->bytes, $pki->root, $pki->intermediate);
    check($ok, 'the notice verifies with openssl cms -verify', $err);
    my @certs = map { cert_subject($_) } cms_certificates($notice->bytes);
    check((grep {/CN\s*=\s*list-secure\b/} @certs),
        'the notice is signed with the certificate of the list', "@certs");
};

# ---------------------------------------------------------------------------
scenario
    '3. signed and encrypted post: decrypted, checked, re-encrypted per subscriber'
    => sub {
    my $mark  = $sympa->log_mark;
    my %entry = (
        secure => encrypted_post(
            'secure', $lists{secure}{cert},
            'e2e 3: signed and encrypted to secure'
        ),
        split => encrypted_post(
            'split', $lists{split_enc}{cert},
            'e2e 3: signed and encrypted to split'
        ),
    );
    for my $list (qw(secure split)) {
        my $entry = $entry{$list};
        wait_for(
            "$list: copies to alice and bob, notice to carol",
            sub {
                my %r = map { $_ => 1 } map { $_->rcpt } copies_of($entry);
                $r{'alice@example.net'}
                    and $r{'bob@example.net'}
                    || cert_missing_notices($list, 'bob@example.net')
                    and cert_missing_notices($list, 'carol@example.net');
            }
        );
        check_encrypted_distribution($list, $entry);
    }
    my $log = $sympa->log_since($mark);
    check(
        $log =~ /authz\(Sympa::Scenario <send\.private_smime;[^>]*>, smime,/,
        'secure: the decrypted post was authorized with the smime method'
    );
    };

# Alice signs a secret, then encrypts it to $cert.
sub encrypted_post {
    my ($list, $cert, $subject) = @_;
    my $secret = "Secret to $list. Token: " . token();
    my $signed = sign_entity(text_entity("$secret\n"),
        $users{alice}, $pki->intermediate);
    return post(
        from    => $users{alice},
        to      => $list,
        subject => $subject,
        mime    => encrypt_entity($signed, $cert),
        secret  => $secret,
    );
}

sub cert_missing_notices {
    my ($list, $email) = @_;
    return grep {
        $_->is_to($email)
            && ($_->header('Subject') // '') =~
            /encrypted message for list \Q$list\E\@/
    } $sympa->captures;
}

sub check_encrypted_distribution {
    my ($list, $entry) = @_;
    my @copies = copies_of($entry);
    for my $who (qw(alice bob)) {
        local $TODO = stock_limitation(
            'the EC certificate is harvested as "@sign" only, so Bob gets no encrypted copy'
        ) if $who eq 'bob';
        my $email = $users{$who}{email};
        my @mine  = grep { $_->is_to($email) } @copies;
        check(@mine == 1, "$list: exactly one copy to $who")
            or next;
        my $copy = $mine[0];
        check($copy->rcpt == 1,
            "$list: the copy to $who is addressed to $who only");
        check(
            $copy->content_type =~ m{^application/(?:x-)?pkcs7-mime$}
                && ($copy->header('Content-Type') // '') =~ /enveloped-data/i,
            "$list: the copy to $who is enveloped-data",
            $copy->header('Content-Type')
        );
        my ($ok, $plain, $err) = cms_decrypt($copy->bytes, $users{$who});
        check($ok, "$list: $who decrypts it with openssl cms -decrypt", $err);
        check(
            index($plain, $entry->{secret}) >= 0,
            "$list: $who finds the original content"
        );

        for my $other ((grep { $_ ne $who } qw(alice bob)), 'stranger') {
            my ($other_ok) = cms_decrypt($copy->bytes, $users{$other});
            check(!$other_ok,
                "$list: $other cannot decrypt the copy to $who");
        }
        my $list_leaf =
            $list eq 'secure' ? $lists{secure} : $lists{split_enc};
        my ($list_ok) = cms_decrypt($copy->bytes, $list_leaf);
        check(!$list_ok,
            "$list: the list key cannot decrypt the copy to $who");
    }
    my @notices = cert_missing_notices($list, 'carol@example.net');
    check(
        @notices == 1,
        "$list: carol (no certificate) got the x509-user-cert-missing notice"
    );
    my @clear =
        grep { index($_->bytes, $entry->{secret}) >= 0 } $sympa->captures;
    check(
        !@clear,
        "$list: no message went out with the content in clear",
        map { 'in clear to ' . join(',', $_->rcpt) . ': ' . $_->file } @clear
    );
    my @unprotected = grep { $_->content_type !~ /pkcs7-mime/ } @copies;
    check(
        !@unprotected,
        "$list: every copy with the post's Message-ID is encrypted",
        map { $_->content_type . ' to ' . join(',', $_->rcpt) } @unprotected
    );
}

# ---------------------------------------------------------------------------
scenario
    '4. post encrypted to a key the list lacks: delivered intact despite the footer'
    => sub {
    my $secret = 'For the stranger only. Token: ' . token();
    my $entry  = post(
        from    => $users{alice},
        to      => 'split',
        subject => 'e2e 4: encrypted to a foreign key',
        mime    =>
            encrypt_entity(text_entity("$secret\n"), $users{stranger}{cert}),
        secret => $secret,
    );
    my @copies    = distributed_copies($entry) or return;
    my $sent_body = lf((split /\n\n/, $entry->{bytes}, 2)[1]);
    local $TODO =
        stock_limitation('the footer is added around the pkcs7 body');
    for my $copy (@copies) {
        my $to = join ',', $copy->rcpt;
        check(
            $copy->content_type =~ m{^application/(?:x-)?pkcs7-mime$},
            "copy to $to is still application/pkcs7-mime",
            $copy->content_type
        );
        check(index($copy->bytes, 'E2E-FOOTER') < 0,
            "copy to $to has no footer");
        check(lf($copy->body) eq $sent_body,
            "copy to $to has the pkcs7 body that was sent, byte for byte");
        my ($ok, $plain) = cms_decrypt($copy->bytes, $users{stranger});
        check($ok && index($plain, $secret) >= 0,
            "the stranger can still decrypt the copy to $to");
    }
    };

# ---------------------------------------------------------------------------
scenario '5. signed command: authenticated as smime' => sub {
    my $mark = $sympa->log_mark;
    post(
        from    => $users{dave},
        to      => 'sympa',
        subject => 'e2e 5: signed subscribe',
        mime    => sign_entity(
            text_entity("SUBSCRIBE secure Dave Example\n"), $users{dave},
            $pki->intermediate
        ),
    );
    post(
        from    => $users{eve},
        to      => 'sympa',
        subject => 'e2e 5: unsigned subscribe',
        mime    => text_entity("SUBSCRIBE secure Eve Example\n"),
    );
    # And an open list, whose welcome message scenario 6 checks too.
    post(
        from    => $users{frank},
        to      => 'sympa',
        subject => 'e2e 5: subscribe to split',
        mime    => text_entity("SUBSCRIBE split Frank Example\n"),
    );
    wait_for(
        'replies to dave, eve and frank',
        sub {
            !grep { !replies_to($users{$_}{email}) } qw(dave eve frank);
        }
    );
    my @members = $sympa->subscribers('secure');
    check(
        (grep { $_ eq 'dave@example.net' } @members),
        'dave (signed SUBSCRIBE) is now subscribed to secure',
        "members: @members"
    );
    check(
        !(grep { $_ eq 'eve@example.net' } @members),
        'eve (unsigned SUBSCRIBE) is not',
        "members: @members"
    );
    my $log = $sympa->log_since($mark);
    check(
        $log =~ /authz\(Sympa::Scenario <subscribe\.smime;[^>]*>, smime,/,
        'subscribe.smime was evaluated with the smime auth method'
    );
    check(
        $log =~
            /SUBSCRIBE for \S+ <secure\@\Q$DOMAIN\E> from eve\@example\.net refused/,
        'the unsigned SUBSCRIBE was refused'
    );
    my ($report) = replies_to($users{eve}{email});
    check(
        $report && $report->bytes =~ /requires S\/MIME signature/,
        'eve was told that subscribing requires an S/MIME signature'
    );
    check(
        -e $sympa->cert_dir . '/dave@example.net',
        "dave's certificate was harvested"
    );
};

# ---------------------------------------------------------------------------
scenario
    '6. mail written by Sympa for a list with keys is signed with the chain'
    => sub {
    for my $case (
        [secure => 'dave',  $lists{secure}],
        [split  => 'frank', $lists{split_sign}],
    ) {
        my ($list, $who, $leaf) = @$case;
        my ($welcome) = grep {
            $_->is_to($users{$who}{email})
                && ($_->header('Subject') // '') =~ /welcome/i
        } $sympa->captures;
        check($welcome, "$list: $who got a welcome message") or next;
        check(
            $welcome->content_type eq 'multipart/signed',
            "$list: the welcome message is signed",
            $welcome->content_type
        ) or next;
        my @certs    = cms_certificates($welcome->bytes);
        my @subjects = map { cert_subject($_) } @certs;
        check(
            (grep {/CN\s*=\s*\Q$leaf->{name}\E\b/} @subjects),
            "$list: signed with the list certificate ($leaf->{name})",
            "certificates: @subjects"
        );
        local $TODO = stock_limitation(
            'Crypt::SMIME signs with the leaf only (#FIXME in smime_sign)');
        check(
            (grep {/E2E Intermediate CA/} @subjects),
            "$list: the signature carries the intermediate CA",
            "certificates: @subjects"
        );
        my ($ok, undef, $err) = cms_verify($welcome->bytes, $pki->root);
        check(
            $ok,
            "$list: verifies with openssl cms -verify -CAfile root.pem alone",
            $err
        );
    }
    };

# ---------------------------------------------------------------------------
scenario
    '7. sidecar killed with SIGKILL: later mail processed, nothing lost' =>
    sub {
    if ($mode eq 'shim') {
        # Idle sidecars killed: the next post goes through.
        my @sidecars = kill_sidecars();
        my $mark     = $sympa->log_mark;
        my $entry =
            signed_post('secure', 'e2e 7: signed post after the kill');
        check_signed_distribution($entry, $mark);

        # Sidecars killed while Sympa handles a signed and encrypted post:
        # whatever becomes of it, nothing goes out in clear.
        $mark = $sympa->log_mark;
        my $inflight = encrypted_post(
            'secure',
            $lists{secure}{cert},
            'e2e 7: encrypted post, sidecars killed in flight'
        );
        (my $bare = $inflight->{id}) =~ s/[<>]//g;
        wait_until(budget(30),
            sub { index($sympa->log_since($mark), $bare) >= 0 });
        my @killed = kill_sidecars();
        note "killed sidecars @killed while Sympa processed $bare";
        wait_for(
            'the post killed in flight is distributed, answered or quarantined',
            sub { outcomes($inflight) }
        );
        my @clear = grep { index($_->bytes, $inflight->{secret}) >= 0 }
            $sympa->captures;
        check(
            !@clear,
            'no copy of it went out in clear',
            map { 'in clear to ' . join(',', $_->rcpt) } @clear
        );
        check($sympa->daemons_alive,
            'sympa_msg.pl and bulk.pl are still running');
    } else {
        note 'stock mode: no sidecar to kill; only the accounting runs';
    }
    $sympa->settle(budget(30));
    account_for_everything();
    };

# Kills the sidecars with SIGKILL; returns their PIDs once they are gone.
sub kill_sidecars {
    my @pids  = $sympa->sidecar_pids;
    my $procs = $sympa->session_processes;
    check(
        scalar @pids,
        'found the java sidecars of sympa_msg.pl and bulk.pl',
        'processes: ' . join ', ',
        map {"$_ $procs->{$_}[1] (parent $procs->{$_}[0])"}
            sort keys %$procs
    );
    kill 'KILL', @pids;
    check(
        wait_until(
            10,
            sub {
                !grep { $sympa->pid_alive($_) } @pids;
            }
        ),
        "sidecars @pids killed with SIGKILL"
    ) if @pids;
    return @pids;
}

# What became of a message handed to Sympa: distributed, answered with a
# notice quoting it, or in the bad spool.
sub outcomes {
    my $entry = shift;
    (my $bare = $entry->{id}) =~ s/[<>]//g;
    my @outcomes;
    push @outcomes, 'distributed' if copies_of($entry);
    push @outcomes, 'notice' if notices_about($entry, $entry->{from}{email});
    push @outcomes, 'bad spool'
        if grep { index(read_file($_), $bare) >= 0 } $sympa->bad_spool;
    return @outcomes;
}

# Every message handed to Sympa is accounted for. Replies of sympa@ to
# commands do not quote them, so they are counted per sender.
sub account_for_everything {
    my %replies;
    $replies{$_} = () = replies_to($_) for map { $_->{from}{email} } @ledger;
    for my $entry (@ledger) {
        my @outcomes = outcomes($entry);
        push @outcomes, 'reply'
            if $entry->{to} eq 'sympa'
            && $replies{$entry->{from}{email}}-- > 0;
        check(
            scalar @outcomes,
            "accounted for: $entry->{subject} ("
                . (join(', ', @outcomes) || 'vanished') . ')'
        );
    }
}

# ---------------------------------------------------------------------------
scenario '8. shim disabled: Sympa runs on Crypt::SMIME again' => sub {
    if ($mode ne 'shim') {
        $skipped{$current} = 1;
        plan skip_all => 'stock mode: the shim was never enabled';
    }
    $sympa->stop_daemons;
    $shim->disable;
    $sympa->set_daemon_env();
    $sympa->start_daemons;
    my $mark  = $sympa->log_mark;
    my $entry = signed_post('secure', 'e2e 8: signed post, shim disabled');
    check_signed_distribution($entry, $mark);
    check(!$sympa->sidecar_pids, 'no sidecar runs under the daemons');
};

# ---------------------------------------------------------------------------
$current = 'teardown';
subtest 'teardown: nothing left running' => sub {
    $sympa->stop_daemons;
    ok(!%{$sympa->session_processes}, 'no process of the daemons is left');
};
cleanup();

diag("scenario results, $mode mode:");
for my $name (@order) {
    my $r = $result{$name};
    diag(
        sprintf '  %-7s %s',
        $r eq 'skipped'        ? 'skipped'
        : $r                   ? 'pass'
        : $hard_failure{$name} ? 'FAIL'
        : 'TODO',
        $name
    );
}
diag('  (TODO: fails as expected, a known limitation of stock Sympa)')
    if grep { !$result{$_} && !$hard_failure{$_} } @order;
