#!/usr/bin/perl
# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The benchmarks of issue 8, in one run: Sympa 6.2.70's own methods with the
# shim (ours) against the same methods with Crypt::SMIME, side by side.
#
#   perl bench/all.pl            # the whole run (about 7 minutes on 2 cores)
#   perl bench/all.pl --quick    # a smoke run (about 2 minutes)
#   perl bench/all.pl --only warm,spawn   # some parts: cold warm dist spawn rss
#   perl bench/all.pl --from target/bench/results.json   # tables, chart again
#   perl bench/all.pl --compare before.json,after.json    # ratios side by side
#
# Parts:
#   cold   every operation x {2 KB, 100 KB, 2 MB}: the first 20 calls of a
#          fresh perl process per engine (so the sidecar's JVM is cold too);
#          the JVM's spawn is measured apart, before the first call
#   warm   the same cells in one process after --warmup calls, ours and
#          Crypt::SMIME interleaved call by call: median and quartiles
#   dist   Sympa's distribution loop (ProcessOutgoing: dup + smime_encrypt
#          per recipient, then the message as the mailer takes it), a 100 KB
#          post to --recipients subscribers, interleaved
#   spawn  spawn to first service.version answer, and to first smime.verify
#   rss    the sidecar's VmRSS after 1,000 and 10,000 mixed calls (and the
#          heap in use, from service.stats)
#
# Writes target/bench/results.json and docs/performance-ratios.svg; prints a
# table of ms and ratios (Crypt::SMIME's time / ours: above 1, ours is
# faster).  Only ratios compare: the machines are shared and noisy.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../t/lib", "$Bin/../perl/lib";
use Getopt::Long;
use JSON::PP;
use List::Util  qw(sum);
use POSIX       qw(strftime);
use File::Path  qw(make_path);
use Time::HiRes qw(time);

BEGIN { chdir "$Bin/.." or die $! }
use SMIMETest;
use Sympa::SMIME::Sidecar;

my @OPS = qw(check_smime_signature smime_decrypt smime_encrypt smime_sign
    parse_cert);
my %SIZES = ('2KB' => 2048, '100KB' => 102400, '2MB' => 2097152);
my @SIZES = ('2KB', '100KB', '2MB');

my %opt = (
    out              => 'target/bench',
    svg              => 'docs/performance-ratios.svg',
    only             => 'cold,warm,dist,spawn,rss',
    'cold-runs'      => 3,
    'cold-calls'     => 20,
    warmup           => 1000,
    iterations       => 300,
    'iterations-2mb' => 20,
    recipients       => 1000,
    'dist-warmup'    => 100,
    spawns           => 7,
    rss              => '1000,10000',
);
my @ARGS = @ARGV;
GetOptions(
    \%opt,          'quick',            'only=s',       'out=s',
    'svg=s',        'cold-runs=i',      'cold-calls=i', 'warmup=i',
    'iterations=i', 'iterations-2mb=i', 'recipients=i', 'dist-warmup=i',
    'spawns=i',     'rss=s',            'child=s',      'op=s',
    'size=s',       'engine=s',         'result=s',     'from=s',
    'ops=s',        'compare=s',        'sizes=s',      'help',
) or usage();
usage() if $opt{help};

sub usage {
    print STDERR <<"EOF";
usage: perl bench/all.pl [--quick] [--only cold,warm,dist,spawn,rss]
    [--cold-runs 3] [--cold-calls 20] [--warmup 1000] [--iterations 300]
    [--iterations-2mb 20] [--recipients 1000] [--dist-warmup 100]
    [--spawns 7] [--rss 1000,10000] [--out target/bench]
    [--svg docs/performance-ratios.svg] [--from target/bench/results.json]
    [--ops smime_encrypt,parse_cert,...] [--sizes 2KB,100KB,2MB]
    [--compare run1.json,run2.json,...]
EOF
    exit 2;
}

if ($opt{quick}) {
    my %quick = (
        svg              => 'target/bench/performance-ratios.svg',
        'cold-runs'      => 1,
        warmup           => 100,
        iterations       => 20,
        'iterations-2mb' => 3,
        recipients       => 100,
        'dist-warmup'    => 20,
        spawns           => 2,
        rss              => '1000,2000',
    );
    # Options given on the command line win over --quick's.
    my %given = map { /^--?([\w-]+)/ ? ($1 => 1) : () } @ARGS;
    $opt{$_} = $quick{$_} foreach grep { !$given{$_} } keys %quick;
}

my $FIXTURES = "$opt{out}/fixtures";

# --- children: one measurement each, in a process of their own ----------

if (my $child = $opt{child}) {
    my $result =
          $child eq 'cold' ? child_cold()
        : $child eq 'warm' ? child_warm()
        : $child eq 'dist' ? child_dist()
        : $child eq 'rss'  ? child_rss()
        :                    die "unknown child $child\n";
    SMIMETest::spurt($opt{result}, JSON::PP->new->canonical->encode($result));
    exit 0;
}

# The Sympa set-up of the tests (t/lib/SMIMETest.pm): a home with the robot's
# keys, the password-protected "secure" list, Alice's certificate in
# ssl_cert_dir.
my $HOME;

sub setup {
    $HOME = SMIMETest::sympa_home();
    my $certs = $Conf::Conf{ssl_cert_dir};
    foreach my $user (qw(alice bob)) {
        SMIMETest::spurt("$certs/$user\@example.org",
            SMIMETest::slurp(SMIMETest::pki()->{crt}{$user}));
    }
    return {
        secure => SMIMETest::fake_list($HOME, 'secure'),
        map {
            my $size = $_;
            (   $size => {
                    map { ($_ => SMIMETest::slurp("$FIXTURES/$_-$size.eml")) }
                        qw(plain signed encrypted)
                }
            )
        } @SIZES
    };
}

# One call of $op on a message made from the fixture for $size, with
# Crypt::SMIME ($engine 'cs') or the shim ('ours').  Returns seconds, or
# dies when the operation failed.
sub one_call {
    my ($fx, $op, $size, $engine) = @_;
    my ($call, $check);
    if ($op eq 'parse_cert') {
        my $pem = $fx->{alice_pem} //=
            SMIMETest::slurp(SMIMETest::pki()->{crt}{alice});
        my $result;
        $call =
            sub { $result = Sympa::Tools::SMIME::parse_cert(text => $pem) };
        $check =
            sub { ref $result and $result->{email}{'alice@example.org'} };
    } elsif ($op eq 'check_smime_signature') {
        my $message = SMIMETest::new_message($fx->{$size}{signed});
        $call  = sub { $message->check_smime_signature };
        $check = sub { $message->{smime_signed} };
    } elsif ($op eq 'smime_decrypt') {
        my $message = SMIMETest::new_message($fx->{$size}{encrypted},
            context => $fx->{secure});
        $call  = sub { $message->smime_decrypt };
        $check = sub { $message->{smime_crypted} };
    } elsif ($op eq 'smime_encrypt') {
        my $message = SMIMETest::new_message($fx->{$size}{plain});
        my $ok;
        $call  = sub { $ok = $message->smime_encrypt('bob@example.org') };
        $check = sub {$ok};
    } elsif ($op eq 'smime_sign') {
        my $message = SMIMETest::new_message($fx->{$size}{plain},
            context => $fx->{secure});
        my $ok;
        $call  = sub { $ok = $message->smime_sign };
        $check = sub { $ok and $message->{protected} };
    } else {
        die "unknown operation $op\n";
    }
    my ($start, $end);
    my $timed = sub { $start = time; $call->(); $end = time };
    $engine eq 'cs' ? SMIMETest::with_originals($timed) : $timed->();
    SMIMETest::clear_logs();
    die "$op $size ($engine) failed\n" unless $check->();
    return $end - $start;
}

sub sidecar_pid {
    return Sympa::SMIME::Sidecar->instance->pid;
}

sub rss_kib {
    my $pid = shift or return undef;
    open my $fh, '<', "/proc/$pid/status" or return undef;
    my %kib;
    while (<$fh>) {
        $kib{$1} = $2 if /^(VmRSS|VmHWM):\s+(\d+)/;
    }
    return \%kib;
}

sub child_cold {
    my $fx = setup();
    my %result;
    if ($opt{engine} eq 'ours') {
        my $start = time;
        Sympa::SMIME::Sidecar->instance->call('service.version', {});
        $result{spawn_s} = time - $start;
    }
    $result{times} =
        [map { one_call($fx, $opt{op}, $opt{size}, $opt{engine}) }
            1 .. $opt{'cold-calls'}];
    return \%result;
}

# The operations of --ops, all by default.
sub ops {
    return @OPS unless $opt{ops};
    my %want = map { ($_ => 1) } split /,/, $opt{ops};
    return grep { $want{$_} } @OPS;
}

# The cells measured, [operation, size]: --ops x --sizes; parse_cert has
# one certificate and no sizes, and is in the 2 KB column.
sub cells {
    my %want = map { ($_ => 1) } split /,/, ($opt{sizes} // join ',', @SIZES);
    return map {
        my $op = $_;
        map      { [$op, $_] }
            grep { $want{$_} }
            ($op eq 'parse_cert' ? ('2KB') : @SIZES)
    } ops();
}

# [operation, size]: every operation at 2 KB and 100 KB (parse_cert once).
sub small_kinds {
    return map {
        my $op = $_;
        $op eq 'parse_cert' ? [$op, '2KB'] : map { [$op, $_] } '2KB', '100KB'
    } ops();
}

sub child_warm {
    my $fx    = setup();
    my @kinds = small_kinds();
    # The sidecar's (and Perl's) warm-up: calls spread over the operations.
    my $start = time;
    foreach my $i (0 .. $opt{warmup} - 1) {
        one_call($fx, @{$kinds[$i % @kinds]}, 'ours');
    }
    my %result = (warmup_s => time - $start, cells => []);
    foreach my $cell (cells()) {
        my ($op, $size) = @$cell;
        my $n = $size eq '2MB' ? $opt{'iterations-2mb'} : $opt{iterations};
        # A few calls of both at this size first: buffers, caches.
        one_call($fx, $op, $size, $_) foreach qw(ours cs ours cs);
        my (@ours, @cs);
        foreach my $i (1 .. $n) {
            # Interleaved, first one then the other.
            if ($i % 2) {
                push @ours, one_call($fx, $op, $size, 'ours');
                push @cs,   one_call($fx, $op, $size, 'cs');
            } else {
                push @cs,   one_call($fx, $op, $size, 'cs');
                push @ours, one_call($fx, $op, $size, 'ours');
            }
        }
        push @{$result{cells}},
            {op => $op, size => $size, ours => \@ours, cs => \@cs};
    }
    $result{rss} = rss_kib(sidecar_pid());
    return \%result;
}

# What Sympa 6.2.70's ProcessOutgoing does for each subscriber of a list
# whose mail is re-encrypted: $message->dup, smime_encrypt($rcpt), then the
# mailer takes it as a string.  Each subscriber has a certificate file of
# their own in ssl_cert_dir.
sub child_dist {
    my $fx    = setup();
    my $certs = $Conf::Conf{ssl_cert_dir};
    my $pki   = SMIMETest::pki();
    my @pem   = map { SMIMETest::slurp($pki->{crt}{$_}) } qw(alice bob);
    my $count = $opt{recipients} + $opt{'dist-warmup'};
    my @rcpts = map { sprintf 'subscriber%05d@example.org', $_ } 1 .. $count;
    SMIMETest::spurt("$certs/$rcpts[$_]", $pem[$_ % 2]) foreach 0 .. $#rcpts;

    my $message = SMIMETest::new_message($fx->{'100KB'}{plain},
        context => $fx->{secure});
    $message->{shelved}{smime_encrypt} = 1;
    my $per_rcpt = sub {
        my ($rcpt, $engine) = @_;
        my ($start, $end);
        my $timed = sub {
            $start = time;
            my $new_message = $message->dup;
            $new_message->smime_encrypt($rcpt)
                or die "smime_encrypt $rcpt ($engine) failed\n";
            delete $new_message->{shelved}{smime_encrypt};
            my $string = $new_message->as_string;
            $end = time;
        };
        $engine eq 'cs' ? SMIMETest::with_originals($timed) : $timed->();
        SMIMETest::clear_logs();
        return $end - $start;
    };
    my @warm = splice @rcpts, 0, $opt{'dist-warmup'};
    foreach my $rcpt (@warm) {
        $per_rcpt->($rcpt, $_) foreach qw(ours cs);
    }
    my (@ours, @cs);
    foreach my $i (0 .. $#rcpts) {
        my @order = $i % 2 ? qw(cs ours) : qw(ours cs);
        foreach my $engine (@order) {
            my $s = $per_rcpt->($rcpts[$i], $engine);
            push @{$engine eq 'ours' ? \@ours : \@cs}, $s;
        }
    }
    return {ours => \@ours, cs => \@cs, rss => rss_kib(sidecar_pid())};
}

# Mixed calls through Sympa's methods (ours only): every operation at 2 KB
# and 100 KB in turn, and one call in 100 at 2 MB.
sub child_rss {
    my $fx    = setup();
    my @kinds = small_kinds();
    my @big   = map { [$_, '2MB'] } grep { $_ ne 'parse_cert' } ops();
    @big = @kinds unless @big;
    my @marks = sort { $a <=> $b } split /,/, $opt{rss};
    my $step  = $marks[-1] >= 5000 ? 1000 : 250;
    my %at    = map { ($_ * $step => 1) } 1 .. int($marks[-1] / $step);
    $at{$_} = 1 foreach @marks;
    my @points;
    my $start = time;

    foreach my $i (1 .. $marks[-1]) {
        my $kind =
            $i % 100 == 0 ? $big[($i / 100) % @big] : $kinds[$i % @kinds];
        one_call($fx, @$kind, 'ours');
        next unless $at{$i};
        # The heap in use, as the sidecar reports it (one call more,
        # not counted).
        my $stats =
            Sympa::SMIME::Sidecar->instance->call('service.stats', {});
        push @points,
            {
            calls     => $i,
            heap_used => int(($stats->{heap_used_bytes} // 0) / 1024),
            %{rss_kib(sidecar_pid()) || {}}
            };
    }
    return {
        points  => \@points,
        seconds => time - $start,
        pid     => sidecar_pid()
    };
}

# --- the parent: fixtures, children, report ------------------------------

make_path($FIXTURES);

die "Crypt::SMIME is not installed: nothing to compare with\n"
    unless SMIMETest::xs_available();
die "no jar at $ENV{SYMPA_SMIME_JAR}: mvn -B -q -DskipTests package\n"
    unless -f $ENV{SYMPA_SMIME_JAR};

my %only    = map { ($_ => 1) } split /,/, $opt{only};
my $started = time;
my %results = (
    meta => {
        date => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime),
        host => `uname -n` =~ s/\s+\z//r,
        cpus => scalar(() = `cat /proc/cpuinfo` =~ /^processor/mg),
        cpu  => (`cat /proc/cpuinfo` =~ /^model name\s*:\s*(.*)$/m)[0],
        loadavg_start => (split ' ', `cat /proc/loadavg`)[0],
        java          => (`java -version 2>&1` =~ /^(.*)$/m)[0],
        crypt_smime   => $Crypt::SMIME::VERSION,
        java_opts     => Sympa::SMIME::Sidecar->instance->config->{java_opts},
        jar           => $ENV{SYMPA_SMIME_JAR},
        command       => join(' ', 'perl bench/all.pl', @ARGS),
        commit  => `git rev-parse --short HEAD 2>/dev/null` =~ s/\s+\z//r,
        options => {%opt},
    },
);

if ($opt{from}) {
    render(decode_json(SMIMETest::slurp($opt{from})));
    exit 0;
}
if ($opt{compare}) {
    print compare(map { decode_json(SMIMETest::slurp($_)) } split /,/,
        $opt{compare});
    exit 0;
}

# A Markdown table of the speed-ups of several runs side by side (before
# and after a change, or one machine's spread from run to run).
sub compare {
    my @runs = @_;
    my @md   = (
        join(' | ',
            '| cell', (map {"$_->{meta}{date} ($_->{meta}{commit})"} @runs),
            "target |"),
        join('|', '', ('---') x (@runs + 2), '')
    );
    my @rows;
    foreach my $run (@runs) {
        foreach my $c (@{$run->{cells}}) {
            my $row = "$c->{mode} `$c->{op}` $c->{size}";
            push @rows, $row unless grep { $_ eq $row } @rows;
        }
    }
    foreach my $row (@rows) {
        my ($target, @ratios);
        foreach my $run (@runs) {
            my ($c) = grep { "$_->{mode} `$_->{op}` $_->{size}" eq $row }
                @{$run->{cells}};
            push @ratios, $c ? sprintf('%.2f×', $c->{ratio}) : '';
            $target //= $c->{target} if $c;
        }
        push @md, join ' | ', "| $row", @ratios,
            (defined $target ? sprintf('%.2f× |', $target) : '|');
    }
    my @extra = (
        [   'distribution loop', sub { $_[0]{distribution}{ratio} },
            '%.2f×',             '6×'
        ],
        [   'spawn to service.version, ms',
            sub { $_[0]{spawn}{version_ms} },
            '%.0f', '250'
        ],
        [   'spawn to smime.verify, ms', sub { $_[0]{spawn}{verify_ms} },
            '%.0f',                      '400'
        ],
        [   'sidecar RSS at the first mark, MiB',
            sub { $_[0]{rss}{first_mib} },
            '%.0f', '96'
        ],
        [   'sidecar RSS at the last mark, MiB',
            sub { $_[0]{rss}{last_mib} },
            '%.0f', 'flat'
        ],
    );
    foreach my $extra (@extra) {
        my ($name, $get, $format, $target) = @$extra;
        push @md, join ' | ', "| $name",
            (map { fmt($format, $get->($_)) } @runs), "$target |";
    }
    return join "\n", @md, '';
}

make_fixtures();

sub make_fixtures {
    foreach my $size (@SIZES) {
        # Made again when the test PKI was (t/lib/SMIMETest.pm).
        my $pki = SMIMETest::pki();
        next
            if -e "$FIXTURES/encrypted-$size.eml"
            and -M "$FIXTURES/encrypted-$size.eml" < -M $pki->{crt}{secure}
            and -M "$FIXTURES/encrypted-$size.eml" < -M $pki->{crt}{alice};
        my $lines = join '', map {
            sprintf
                "Line %07d of the post, plain text, 8 bit: caf\xc3\xa9.\n", $_
        } 1 .. int($SIZES{$size} / 50);
        my $entity = "Content-Type: text/plain; charset=utf-8\n"
            . "Content-Transfer-Encoding: 8bit\n\n$lines";
        my $header = <<"EOF";
From: Alice User <alice\@example.org>
To: secure\@lists.example.org
Subject: Benchmark $size
Message-ID: <bench.$size\@example.org>
Date: Sun, 29 Nov 2026 12:00:00 +0000
MIME-Version: 1.0
EOF
        SMIMETest::spurt("$FIXTURES/plain-$size.eml", $header . $entity);
        SMIMETest::spurt("$FIXTURES/signed-$size.eml",
            SMIMETest::sign_entity('alice', entity => $entity));
        SMIMETest::spurt("$FIXTURES/encrypted-$size.eml",
            SMIMETest::encrypt_entity(['secure'], entity => $entity));
    }
}

sub child {
    my ($kind, %args) = @_;
    my $result = "$opt{out}/child-$$.json";
    unlink $result;
    my @command = (
        $^X,
        "$Bin/all.pl",
        '--child',
        $kind,
        '--result',
        $result,
        (   map { ("--$_", $opt{$_}) }
                grep {
                defined $opt{$_}
                    and !
                    /^(only|quick|help|child|op|size|engine|result|from)$/
                } sort keys %opt
        ),
        map { ("--$_", $args{$_}) } sort keys %args
    );
    system(@command) == 0 or die "child failed: @command\n";
    my $json = decode_json(SMIMETest::slurp($result));
    unlink $result;
    return $json;
}

sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

sub quantile {
    my ($q, @values) = @_;
    my @s = sort { $a <=> $b } @values;
    return undef unless @s;
    my $pos = $q * $#s;
    my $low = int $pos;
    return $s[$low] if $low == $#s;
    return $s[$low] + ($pos - $low) * ($s[$low + 1] - $s[$low]);
}

sub ms { defined $_[0] ? 1000 * $_[0] : undef }

sub progress { printf STDERR "[%5.0fs] %s\n", time - $started, shift }

# Targets of issue 8.
sub target {
    my ($mode, $op, $size) = @_;
    if ($mode eq 'warm') {
        return 1.5
            if $op =~ /decrypt|check/ and $size ne '2KB';
        return 4 if $op =~ /encrypt|sign/ and $size ne '2KB';
        return 1;
    }
    return $size eq '2KB' ? 1 / 1.5 : undef;
}

my @cells;
if ($only{cold}) {
    my %times;
    foreach my $run (1 .. $opt{'cold-runs'}) {
        foreach my $cell (cells()) {
            my ($op, $size) = @$cell;
            progress("cold run $run: $op $size");
            # Interleaved: which engine starts alternates by run.
            my @engines = $run % 2 ? qw(ours cs) : qw(cs ours);
            foreach my $engine (@engines) {
                my $r = child(
                    'cold',
                    op     => $op,
                    size   => $size,
                    engine => $engine
                );
                push @{$times{$op}{$size}{$engine}}, $r;
            }
        }
    }
    foreach my $cell (cells()) {
        my ($op, $size) = @$cell;
        my $t = $times{$op}{$size};
        # Per process: the mean of its first N calls; then the median
        # of the processes.
        my %mean = map {
            my $engine = $_;
            (   $engine => median(
                    map { sum(@{$_->{times}}) / @{$_->{times}} }
                        @{$t->{$engine}}
                )
            )
        } qw(ours cs);
        my $spawn = median(map { $_->{spawn_s} } @{$t->{ours}});
        my $n     = $opt{'cold-calls'};
        push @cells, {
            mode             => 'cold',
            op               => $op,
            size             => $size,
            ours_ms          => ms($mean{ours}),
            cs_ms            => ms($mean{cs}),
            ratio            => $mean{cs} / $mean{ours},
            spawn_ms         => ms($spawn),
            ratio_with_spawn => $mean{cs} / ($mean{ours} + $spawn / $n),
            first_ours_ms => ms(median(map { $_->{times}[0] } @{$t->{ours}})),
            first_cs_ms   => ms(median(map { $_->{times}[0] } @{$t->{cs}})),
            processes     => scalar @{$t->{ours}},
            calls         => $n,
            target        => target('cold', $op, $size),
            # Every call, ms, a list per process.
            raw_ms => {
                map {
                    my $engine = $_;
                    (   $engine => [
                            map {
                                [map { ms($_) } @{$_->{times}}]
                            } @{$t->{$engine}}
                        ]
                    )
                } qw(ours cs)
            },
        };
    }
}

if ($only{warm}) {
    progress("warm: $opt{warmup} calls of warm-up, then interleaved calls");
    my $r = child('warm');
    $results{warm_rss_kib} = $r->{rss};
    $results{warmup_s}     = $r->{warmup_s};
    foreach my $cell (@{$r->{cells}}) {
        my ($ours, $cs) = @$cell{qw(ours cs)};
        push @cells,
            {
            mode    => 'warm',
            op      => $cell->{op},
            size    => $cell->{size},
            ours_ms => ms(median(@$ours)),
            cs_ms   => ms(median(@$cs)),
            ratio   => median(@$cs) / median(@$ours),
            ours_q1 => ms(quantile(0.25, @$ours)),
            ours_q3 => ms(quantile(0.75, @$ours)),
            cs_q1   => ms(quantile(0.25, @$cs)),
            cs_q3   => ms(quantile(0.75, @$cs)),
            calls   => scalar @$ours,
            target  => target('warm', $cell->{op}, $cell->{size}),
            raw_ms  => {
                ours => [map { ms($_) } @$ours],
                cs   => [map { ms($_) } @$cs]
            },
            };
    }
}
foreach my $cell (@cells) {
    $cell->{met} =
        defined $cell->{target}
        ? ($cell->{ratio} >= $cell->{target} ? 1 : 0)
        : undef;
}
$results{cells} = \@cells;

if ($only{dist}) {
    progress("distribution loop: 100 KB x $opt{recipients} recipients");
    my $r = child('dist');
    my ($ours, $cs) = (sum(@{$r->{ours}}), sum(@{$r->{cs}}));
    $results{distribution} = {
        recipients      => scalar @{$r->{ours}},
        size            => '100KB',
        ours_s          => $ours,
        cs_s            => $cs,
        ours_ms_per     => ms($ours / @{$r->{ours}}),
        cs_ms_per       => ms($cs / @{$r->{cs}}),
        ours_median_ms  => ms(median(@{$r->{ours}})),
        cs_median_ms    => ms(median(@{$r->{cs}})),
        ratio           => $cs / $ours,
        target          => 6,
        met             => ($cs / $ours >= 6 ? 1 : 0),
        sidecar_rss_kib => $r->{rss},
        raw_ms          => {
            ours => [map { ms($_) } @{$r->{ours}}],
            cs   => [map { ms($_) } @{$r->{cs}}]
        },
    };
}

if ($only{spawn}) {
    progress("spawn: $opt{spawns} times each");
    my $signed = SMIMETest::slurp("$FIXTURES/signed-2KB.eml");
    my $cafile = SMIMETest::pki()->{cafile};
    my (@version, @verify);
    foreach my $i (1 .. $opt{spawns}) {
        foreach my $what ($i % 2 ? qw(version verify) : qw(verify version)) {
            my $sidecar = Sympa::SMIME::Sidecar->new;
            my $start   = time;
            if ($what eq 'version') {
                $sidecar->call('service.version', {});
                push @version, time - $start;
            } else {
                my $r = $sidecar->call(
                    'smime.verify',
                    {   message_b64 =>
                            Sympa::SMIME::Sidecar::encode_bytes($signed),
                        cafile => $cafile
                    }
                );
                push @verify, time - $start;
            }
            $sidecar->shutdown;
        }
    }
    $results{spawn} = {
        spawns            => $opt{spawns},
        version_ms        => ms(median(@version)),
        version_min_ms    => ms((sort { $a <=> $b } @version)[0]),
        version_max_ms    => ms((sort { $a <=> $b } @version)[-1]),
        verify_ms         => ms(median(@verify)),
        verify_min_ms     => ms((sort { $a <=> $b } @verify)[0]),
        verify_max_ms     => ms((sort { $a <=> $b } @verify)[-1]),
        version_target_ms => 250,
        verify_target_ms  => 400,
        version_met       => (ms(median(@version)) <= 250 ? 1 : 0),
        verify_met        => (ms(median(@verify)) <= 400  ? 1 : 0),
    };
}

if ($only{rss}) {
    progress("sidecar RSS: mixed calls up to " . (split /,/, $opt{rss})[-1]);
    my $r     = child('rss');
    my @marks = split /,/, $opt{rss};
    my %at    = map { ($_->{calls} => $_) } @{$r->{points}};
    my ($first, $last) = map { $at{$_}{VmRSS} } $marks[0], $marks[-1];
    $results{rss} = {
        points     => $r->{points},
        seconds    => $r->{seconds},
        marks      => \@marks,
        first_mib  => $first / 1024,
        last_mib   => $last / 1024,
        target_mib => 96,
        met_first  => ($first / 1024 <= 96 ? 1 : 0),
        # Flat: within 10 % of the first mark.
        flat => ($last <= 1.1 * $first ? 1 : 0),
    };
}

$results{meta}{loadavg_end} = (split ' ', `cat /proc/loadavg`)[0];
$results{meta}{seconds}     = time - $started;

make_path($opt{out});
my $json_file = "$opt{out}/results.json";
SMIMETest::spurt($json_file,
    JSON::PP->new->canonical->pretty->encode(\%results));
print "results: $json_file\n";
render(\%results);
exit 0;

# The table on stdout, the Markdown tables and the chart.
sub render {
    my $r = shift;
    report($r);
    SMIMETest::spurt("$opt{out}/results.md", markdown($r));
    print "tables:  $opt{out}/results.md\n";
    return unless @{$r->{cells} || []};
    write_svg($r, $opt{svg});
    print "chart:   $opt{svg}\n";
}

sub fmt {
    my ($format, $value) = @_;
    return defined $value ? sprintf($format, $value) : '-';
}

sub verdict {
    my $cell = shift;
    return '' unless defined $cell->{target};
    return sprintf '%s %.2fx', ($cell->{met} ? 'met ' : 'MISS'),
        $cell->{target};
}

# The points of an RSS run at its marks (1,000 and 10,000 calls).
sub rss_marks {
    my $rss  = shift;
    my %mark = map { ($_ => 1) } @{$rss->{marks}};
    return grep { $mark{$_->{calls}} } @{$rss->{points}};
}

sub yes_no { $_[0] ? 'met' : '**missed**' }

# The tables of docs/performance.md, from a run.
sub markdown {
    my $r = shift;
    my $m = $r->{meta};
    my $o = $m->{options};
    my @md;
    push @md,
          sprintf "Run of %s (`%s` at commit %s), %d CPUs (%s), %s, "
        . "Crypt::SMIME %s, `java_opts` `%s`, load average %s at the start "
        . "and %s at the end, %.0f s.\n",
        $m->{date}, $m->{command} // 'perl bench/all.pl', $m->{commit},
        $m->{cpus},
        $m->{cpu} // '?', $m->{java}, $m->{crypt_smime}, $m->{java_opts},
        $m->{loadavg_start}, $m->{loadavg_end}, $m->{seconds};
    my %cell =
        map { ("$_->{mode} $_->{op} $_->{size}" => $_) } @{$r->{cells}};
    foreach my $mode (qw(warm cold)) {
        next unless grep { $_->{mode} eq $mode } @{$r->{cells}};
        push @md,
            $mode eq 'warm'
            ? "Warm, after $o->{warmup} calls: median ms per call, ours / "
            . "Crypt::SMIME, and the speed-up (target in brackets):\n"
            : "Cold, the first $o->{'cold-calls'} calls of a fresh process "
            . "(mean ms per call, median of $o->{'cold-runs'} processes per "
            . "engine, the JVM's spawn apart), ours / Crypt::SMIME, and the "
            . "speed-up (target in brackets):\n";
        push @md, '| operation | 2 KB | 100 KB | 2 MB |', '|---|---|---|---|';
        foreach my $op (@OPS) {
            push @md, join ' | ', "| `$op`", (
                map {
                    my $c = $cell{"$mode $op $_"};
                    !$c ? '' : sprintf '%.2f / %.2f: %s%.2f×%s%s',
                        $c->{ours_ms}, $c->{cs_ms},
                        (defined $c->{met} && !$c->{met} ? '**' : ''),
                        $c->{ratio},
                        (defined $c->{met} && !$c->{met} ? '**' : ''),
                        (
                        defined $c->{target}
                        ? sprintf(' (%.2g×)', $c->{target})
                        : ''
                        )
                } @SIZES
                ),
                '';
            $md[-1] =~ s/ \z//;
        }
        push @md, '';
        next unless $mode eq 'cold';
        my @spawn = map { $_->{spawn_ms} }
            grep { $_->{mode} eq 'cold' } @{$r->{cells}};
        push @md,
              sprintf "The sidecar's spawn, before those calls: %.0f ms "
            . "(median of the cells' medians, %.0f to %.0f). Counting it "
            . "in the %d calls, the 2 KB speed-ups become %s.\n",
            median(@spawn), (sort { $a <=> $b } @spawn)[0, -1],
            $o->{'cold-calls'}, join ', ',
            map  { sprintf '%.3f× (`%s`)', $_->{ratio_with_spawn}, $_->{op} }
            grep { $_->{mode} eq 'cold' and $_->{size} eq '2KB' }
            @{$r->{cells}};
    }
    if (my $d = $r->{distribution}) {
        push @md,
              sprintf "Distribution loop, a 100 KB post to %d "
            . "recipients (`dup`, `smime_encrypt`, `as_string` each): "
            . "%.2f ms per recipient against %.2f, **%.2f×** "
            . "(target 6×: %s).\n", $d->{recipients},
            @$d{qw(ours_ms_per cs_ms_per ratio)}, yes_no($d->{met});
    }
    if (my $s = $r->{spawn}) {
        push @md,
              sprintf "Spawn to first answer, median of %d: "
            . "`service.version` %.0f ms (%.0f to %.0f; target 250 ms: %s), "
            . "`smime.verify` %.0f ms (%.0f to %.0f; target 400 ms: %s).\n",
            $s->{spawns},
            @$s{qw(version_ms version_min_ms version_max_ms)},
            yes_no($s->{version_met}),
            @$s{qw(verify_ms verify_min_ms verify_max_ms)},
            yes_no($s->{verify_met});
    }
    if (my $rss = $r->{rss}) {
        push @md,
            sprintf "Sidecar VmRSS after mixed calls: %s (target "
            . "96 MiB after %d: %s; within 10 %% from %d to %d: %s).\n",
            join(
            ', ',
            map {
                sprintf '%.0f MiB (peak %.0f, heap in use %.0f) after %d '
                    . 'calls', $_->{VmRSS} / 1024, $_->{VmHWM} / 1024,
                    ($_->{heap_used} // 0) / 1024, $_->{calls}
            } rss_marks($rss)
            ),
            $rss->{marks}[0], yes_no($rss->{met_first}), @{$rss->{marks}},
            $rss->{flat} ? 'flat' : '**not flat**';
    }
    return join "\n", @md, '';
}

sub report {
    my $r = shift;
    my $m = $r->{meta};
    printf "\n%s, %d CPUs (%s), %s, Crypt::SMIME %s, load %s -> %s\n",
        $m->{date}, $m->{cpus}, $m->{cpu} // '?', $m->{java},
        $m->{crypt_smime}, $m->{loadavg_start}, $m->{loadavg_end};
    printf "java_opts: %s\n", $m->{java_opts} // '';
    print "ratio = Crypt::SMIME's time / ours (above 1: ours is faster)\n";

    foreach my $mode (qw(cold warm)) {
        my @c = grep { $_->{mode} eq $mode } @{$r->{cells}} or next;
        if ($mode eq 'cold') {
            printf "\nCOLD: mean of the first %d calls of a fresh process, "
                . "median of %d processes per engine; spawn apart\n",
                $r->{meta}{options}{'cold-calls'}, $c[0]{processes};
            printf "%-22s %-6s %9s %9s %7s %9s %10s %s\n", 'operation',
                'size', 'ours ms', 'CS ms', 'ratio', 'spawn ms', '+spawn',
                'target';
            foreach my $c (@c) {
                printf "%-22s %-6s %9.2f %9.2f %7.2f %9.0f %10.2f %s\n",
                    @$c{qw(op size ours_ms cs_ms ratio spawn_ms)},
                    $c->{ratio_with_spawn}, verdict($c);
            }
        } else {
            printf "\nWARM: after %d calls; median [quartiles] of the "
                . "interleaved calls\n", $r->{meta}{options}{warmup};
            printf "%-22s %-6s %5s %22s %22s %7s %s\n", 'operation', 'size',
                'n', 'ours ms', 'CS ms', 'ratio', 'target';
            foreach my $c (@c) {
                printf "%-22s %-6s %5d %22s %22s %7.2f %s\n",
                    @$c{qw(op size calls)},
                    sprintf('%.2f [%.2f-%.2f]',
                    @$c{qw(ours_ms ours_q1 ours_q3)}),
                    sprintf('%.2f [%.2f-%.2f]', @$c{qw(cs_ms cs_q1 cs_q3)}),
                    $c->{ratio}, verdict($c);
            }
        }
    }
    if (my $d = $r->{distribution}) {
        printf "\nDISTRIBUTION LOOP: 100 KB post, %d recipients, "
            . "dup + smime_encrypt + as_string each\n", $d->{recipients};
        printf "ours %.2f ms/recipient (%.1f s), Crypt::SMIME %.2f ms "
            . "(%.1f s): ratio %.2f, target 6x: %s\n",
            @$d{qw(ours_ms_per ours_s cs_ms_per cs_s ratio)},
            $d->{met} ? 'met' : 'MISSED';
    }
    if (my $s = $r->{spawn}) {
        printf "\nSPAWN (median of %d, min-max):\n", $s->{spawns};
        printf "  to first service.version answer: %4.0f ms (%.0f-%.0f), "
            . "target 250: %s\n", @$s{
            qw(version_ms version_min_ms
                version_max_ms)
            },
            $s->{version_met} ? 'met' : 'MISSED';
        printf "  to first smime.verify answer:    %4.0f ms (%.0f-%.0f), "
            . "target 400: %s\n", @$s{
            qw(verify_ms verify_min_ms
                verify_max_ms)
            },
            $s->{verify_met} ? 'met' : 'MISSED';
    }
    if (my $rss = $r->{rss}) {
        print "\nSIDECAR RSS (VmRSS, peak VmHWM) after mixed calls:\n";
        foreach my $p (@{$rss->{points}}) {
            printf "  %6d calls: %6.1f MiB (peak %6.1f MiB, heap in use "
                . "%6.1f MiB)\n", $p->{calls}, $p->{VmRSS} / 1024,
                $p->{VmHWM} / 1024, ($p->{heap_used} // 0) / 1024;
        }
        printf "  target 96 MiB after %d calls: %s; flat (within 10%%) "
            . "to %d calls: %s\n", $rss->{marks}[0],
            $rss->{met_first} ? 'met' : 'MISSED', $rss->{marks}[-1],
            $rss->{flat} ? 'yes' : 'NO';
    }
}

# A chart of the ratios by size: one panel for cold, one for warm, a line
# per operation, ratio on a log scale, the 1.0 line and the targets marked.
sub write_svg {
    my ($r, $file) = @_;
    my @colors = ('#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e');
    my %color  = map { ($OPS[$_] => $colors[$_]) } 0 .. $#OPS;
    my ($pw, $ph)    = (330, 300);    # a panel
    my ($left, $top) = (60, 50);
    my @modes = grep {
        my $mode = $_;
        grep { $_->{mode} eq $mode } @{$r->{cells}}
    } qw(cold warm);
    my $width = $left + @modes * ($pw + 40) + 240;
    $width = 830 if $width < 830;
    my $height = $top + $ph + 30;
    my ($lo, $hi) = (0.1, 10);
    foreach my $c (@{$r->{cells}}) {
        $lo = $c->{ratio} / 1.3 if $c->{ratio} / 1.3 < $lo;
        $hi = $c->{ratio} * 1.3 if $c->{ratio} * 1.3 > $hi;
    }
    my $y = sub {
        my $v = shift;
        return $top + $ph * (log($hi) - log($v)) / (log($hi) - log($lo));
    };
    my @svg;
    push @svg,
        sprintf '<svg xmlns="http://www.w3.org/2000/svg" '
        . 'width="%d" height="%d" font-family="sans-serif" font-size="12">',
        $width, $height;
    push @svg, sprintf '<rect width="%d" height="%d" fill="white"/>', $width,
        $height;
    push @svg,
          sprintf '<text x="%d" y="20" font-size="15" '
        . 'font-weight="bold">sympa-smime: speed-up over Crypt::SMIME through '
        . 'Sympa\'s methods (above 1: faster)</text>', $left;
    push @svg,
        sprintf '<text x="%d" y="38" fill="#555">%s, %d CPUs, load '
        . '%s to %s; log scale; dashes: targets of issue 8</text>', $left,
        @{$r->{meta}}{qw(date cpus loadavg_start loadavg_end)};
    foreach my $m (0 .. $#modes) {
        my $mode = $modes[$m];
        my $x0   = $left + $m * ($pw + 40);
        my $x    = sub { $x0 + 40 + $_[0] * ($pw - 80) / 2 };
        push @svg,
            sprintf '<rect x="%d" y="%d" width="%d" height="%d" '
            . 'fill="none" stroke="#999"/>', $x0, $top, $pw, $ph;
        push @svg, sprintf '<text x="%d" y="%d" font-weight="bold">%s</text>',
            $x0 + 5, $top + 15,
            $mode eq 'cold'
            ? "cold: first $r->{meta}{options}{'cold-calls'} calls, new process"
            : "warm: after $r->{meta}{options}{warmup} calls, medians";
        foreach
            my $tick (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) {
            next if $tick < $lo or $tick > $hi;
            push @svg,
                sprintf '<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" '
                . 'stroke="%s" stroke-width="%s"/>', $x0, $x0 + $pw,
                ($y->($tick)) x 2, $tick == 1 ? ('#000', 1.5) : ('#ddd', 1);
            push @svg,
                sprintf '<text x="%d" y="%.1f" text-anchor="end">'
                . '%s&#215;</text>', $x0 - 4, $y->($tick) + 4, $tick;
        }
        foreach my $i (0 .. $#SIZES) {
            push @svg,
                sprintf '<text x="%.1f" y="%d" text-anchor="middle">'
                . '%s</text>', $x->($i), $top + $ph + 16,
                $SIZES[$i] =~ s/(\d)([KM])/$1 $2/r;
        }
        # Targets: cold, 1.5 times slower at most at 2 KB; warm, at
        # 100 KB and 2 MB, 1.5x for check and decrypt, 4x for encrypt and
        # sign (and 1x everywhere: the black line).
        my @targets =
            $mode eq 'cold'
            ? ([0, 0, 1 / 1.5, 'all: 0.67&#215;'])
            : (
            [1, 2, 4,   'encrypt, sign: 4&#215;'],
            [1, 2, 1.5, 'check, decrypt: 1.5&#215;']
            );
        foreach my $t (@targets) {
            my ($from, $to, $value, $label) = @$t;
            push @svg,
                  sprintf '<line x1="%.1f" x2="%.1f" y1="%.1f" '
                . 'y2="%.1f" stroke="#444" stroke-width="1.5" '
                . 'stroke-dasharray="5,4"/>', $x->($from) - 30,
                $x->($to) + 30, ($y->($value)) x 2;
            push @svg,
                sprintf '<text x="%.1f" y="%.1f" fill="#444" '
                . 'font-size="10">%s</text>', $x->($from) - 30,
                $y->($value) - 3, $label;
        }
        foreach my $op (@OPS) {
            my @c = grep { $_->{mode} eq $mode and $_->{op} eq $op }
                @{$r->{cells}};
            my @points;
            foreach my $c (@c) {
                my ($i) = grep { $SIZES[$_] eq $c->{size} } 0 .. $#SIZES;
                push @points, [$x->($i), $y->($c->{ratio})];
            }
            push @svg,
                sprintf '<polyline fill="none" stroke="%s" '
                . 'stroke-width="2" points="%s"/>', $color{$op},
                join ' ', map { sprintf '%.1f,%.1f', @$_ } @points
                if @points > 1;
            push @svg, map {
                sprintf '<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>', @$_,
                    $color{$op}
            } @points;
        }
    }
    my $lx = $left + @modes * ($pw + 40) - 20;
    foreach my $i (0 .. $#OPS) {
        push @svg,
            sprintf '<line x1="%d" x2="%d" y1="%d" y2="%d" '
            . 'stroke="%s" stroke-width="3"/>', $lx, $lx + 20,
            $top + 10 + 20 * $i, $top + 10 + 20 * $i, $colors[$i];
        push @svg, sprintf '<text x="%d" y="%d">%s</text>', $lx + 26,
            $top + 14 + 20 * $i,
            $OPS[$i] eq 'parse_cert'
            ? 'parse_cert (a certificate)'
            : $OPS[$i];
    }
    # The other figures, as notes under the legend.
    my @notes;
    if (my $d = $r->{distribution}) {
        push @notes,
            sprintf('distribution loop, 100 KB &#215; %d:', $d->{recipients}),
            sprintf('  %.2f&#215; (target 6&#215;)', $d->{ratio}), '';
    }
    if (my $s = $r->{spawn}) {
        push @notes,
            sprintf('spawn to first answer: %.0f ms', $s->{version_ms}),
            sprintf('  to first verify: %.0f ms',     $s->{verify_ms}),
            '  (targets 250 and 400 ms)', '';
    }
    if (my $rss = $r->{rss}) {
        push @notes,
            sprintf(
            'sidecar RSS: %.0f MiB after %d calls',
            $rss->{first_mib}, $rss->{marks}[0]
            ),
            sprintf('  %.0f MiB after %d (target 96)',
            $rss->{last_mib}, $rss->{marks}[-1]);
    }
    foreach my $i (0 .. $#notes) {
        push @svg,
            sprintf '<text x="%d" y="%d" xml:space="preserve">%s</text>',
            $lx, $top + 20 * @OPS + 30 + 16 * $i, $notes[$i];
    }
    push @svg, '</svg>';
    SMIMETest::spurt($file, join("\n", @svg) . "\n");
}
