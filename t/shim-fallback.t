# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# A Sympa process whose sidecar cannot run: the jar and the modules taken away
# while it runs (sympa-smime-disable, a package removed without a restart), a
# java that is missing or does not start.  With Crypt::SMIME and the default
# fallback = auto, S/MIME goes on through Sympa's own functions, with one err
# line per process; without Crypt::SMIME, with fallback = no, or with a
# setting only the sidecar enforces, it fails closed: the one line, then one
# per message.  A refusal of the sidecar is never tried again with
# Crypt::SMIME.
use strict;
use warnings;
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw();
use IPC::Open2 qw();
use JSON::PP;
use Test::More;
use Time::HiRes qw();

use lib 't/lib';
use SMIMETest;

plan skip_all => 'Crypt::SMIME is not installed' unless xs_available();
done_unless_sidecar('smime.verify', 'smime.sign');

my $pki  = pki();
my $home = sympa_home();
my $tmp  = File::Temp->newdir(DIR => "$ROOT/t/tmp");

my $signed    = spurt("$tmp/signed",    sign_entity('alice'));
my $untrusted = spurt("$tmp/untrusted", sign_entity('untrusted'));
my $encrypted = spurt("$tmp/encrypted", encrypt_entity(['robot']));
my $plain     = spurt("$tmp/plain",
    "From: alice\@example.org\nSubject: x\nContent-Type: text/plain\n\nHi\n");
my $secure = "$home/list_data/secure";

# The modules and the jar where an installation puts them, in copies this
# test can delete.
sub install {
    my $dir = File::Temp->newdir(DIR => $tmp);
    make_path("$dir/lib/Sympa/SMIME/Sidecar", "$dir/share");
    copy("$ROOT/perl/lib/Sympa/SMIME/$_.pm", "$dir/lib/Sympa/SMIME/$_.pm")
        or die $!
        foreach qw(Shim Sidecar Sidecar/Process Sidecar/Protocol Config);
    copy($ENV{SYMPA_SMIME_JAR}, "$dir/share/sympa-smime.jar") or die $!;
    return $dir;
}

# Starts t/lib/shim-daemon.pl with the shim from $dir/lib; %env on top.
sub daemon {
    my ($dir, %env) = @_;
    my $preload = delete $env{preload} // '';
    local %ENV = %ENV;
    delete $ENV{$_} foreach grep {/^SYMPA_SMIME_/} keys %ENV;
    %ENV = (
        %ENV,
        PERL5LIB                 => "$dir/lib:$ROOT/t/lib",
        PERL5OPT                 => "$preload -MSympa::SMIME::Shim",
        SYMPA_SMIME_JAR          => "$dir/share/sympa-smime.jar",
        SYMPA_SMIME_CONFIG       => '/dev/null',
        SYMPA_SMIME_IDLE_TIMEOUT => 1,
        SHIM_DAEMON_CONF         => JSON::PP->new->encode({%Conf::Conf}),
        %env,
    );
    my $pid =
        IPC::Open2::open2(my $out, my $in, $^X, "$ROOT/t/lib/shim-daemon.pl");
    return {pid => $pid, in => $in, out => $out};
}

# Sends one request; returns {result, xs, sidecar, signed, logs => [lines at
# err, notice or info, as "level message"]}.
sub ask {
    my ($daemon, @request) = @_;
    print {$daemon->{in}} "@request\n";
    $daemon->{in}->flush;
    my %answer = (logs => []);
    while (my $line = readline $daemon->{out}) {
        chomp $line;
        last if $line eq 'DONE';
        if ($line =~ /\ALOG (\S+) (.*)\z/) {
            push @{$answer{logs}}, "$1 $2" unless $1 =~ /\Adebug/;
        } elsif ($line =~ /\ARESULT (\S+) xs=(\d+) sidecar=(\S+) signed=(\d)/)
        {
            @answer{qw(result xs sidecar signed)} = ($1, $2, $3, $4);
        }
    }
    return \%answer;
}

sub stop {
    my $daemon = shift;
    close $daemon->{in};
    waitpid $daemon->{pid}, 0;
}

# Waits for the sidecar of a daemon to exit on its own (idle_timeout 1).
sub wait_idle_exit {
    my $pid = shift;
    for (1 .. 100) {
        my $stat = do {
            open my $fh, '<', "/proc/$pid/stat" or return 1;
            local $/;
            <$fh>;
        };
        return 1 if $stat =~ /\A\d+ \(.*\) Z/s;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub cannot_run_lines {
    my $answer = shift;
    return
        grep {/\Aerr sympa-smime: the sidecar cannot run/} @{$answer->{logs}};
}

# Disabled while it runs, with Crypt::SMIME: Sympa's own functions take over.
{
    my $dir    = install();
    my $daemon = daemon($dir);

    my $a = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 1, 'before: the signature verifies';
    is $a->{xs},     0, 'before: through the sidecar, not Crypt::SMIME';
    like $a->{sidecar}, qr/\A\d+\z/, 'before: a sidecar runs';

    $a = ask($daemon, check_smime_signature => $untrusted);
    is $a->{result}, 'undef', 'a refusal of the sidecar ...';
    ok((grep {/untrusted_chain/} @{$a->{logs}}), '... says why');
    is $a->{xs}, 0, '... and is not tried again with Crypt::SMIME';
    is scalar(cannot_run_lines($a)), 0, '... nor taken for a sidecar down';
    # The one running now (the first may have exited idle in between).
    my $sidecar = $a->{sidecar};

    # sympa-smime-disable or apt remove: the files go, the daemon runs on.
    remove_tree("$dir/lib", "$dir/share");
    ok !-e "$dir/lib/Sympa/SMIME/Sidecar.pm", 'modules removed';
    ok wait_idle_exit($sidecar),              'its sidecar exits when idle';

    $a = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 1, 'after: the signature still verifies';
    is $a->{signed}, 1, 'after: smime_signed';
    ok $a->{xs} > 0, 'after: through Crypt::SMIME';
    my @err = cannot_run_lines($a);
    is scalar @err, 1, 'after: one err line' or diag explain $a->{logs};
    like $err[0], qr/jar not found: \Q$dir\E.*Sympa's own functions/,
        'it says why, and what happens now';
    ok !(grep {/Can't locate/} @{$a->{logs}}), 'no missing module';

    my $xs = $a->{xs};
    $a = ask($daemon, smime_decrypt => $encrypted);
    is $a->{result}, 'self', 'decrypt: through Crypt::SMIME too';
    ok $a->{xs} > $xs, 'decrypt: a Crypt::SMIME object was made';
    $a = ask($daemon, smime_sign => $plain, $secure);
    is $a->{result}, 'self', 'sign: through Crypt::SMIME too';
    $a = ask($daemon, check_smime_signature => $untrusted);
    is $a->{result}, 'undef', 'Crypt::SMIME refuses the untrusted signer';
    is scalar(cannot_run_lines($a)), 0, 'no second err line';

    # The jar back (re-enabled): the sidecar again, without a restart.
    make_path("$dir/share");
    copy($ENV{SYMPA_SMIME_JAR}, "$dir/share/sympa-smime.jar") or die $!;
    $xs = $a->{xs};
    $a  = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 1,   'jar back: verifies';
    is $a->{xs},     $xs, 'jar back: not through Crypt::SMIME';
    like $a->{sidecar}, qr/\A\d+\z/, 'jar back: a sidecar runs';
    is_deeply [grep {/sidecar runs again/} @{$a->{logs}}],
        [
        'notice sympa-smime: the sidecar runs again; S/MIME goes through it'],
        'jar back: a notice line says so';
    stop($daemon);
}

# Disabled while it runs, without Crypt::SMIME: fails closed.
{
    my $dir    = install();
    my $daemon = daemon($dir, preload => '-MHideXS');
    my $a      = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 1,
        'no Crypt::SMIME, before: verifies through the sidecar';
    my $sidecar = $a->{sidecar};
    remove_tree("$dir/lib", "$dir/share");
    ok wait_idle_exit($sidecar),
        'no Crypt::SMIME: its sidecar exits when idle';

    $a = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 'undef', 'no Crypt::SMIME, after: fails closed';
    is $a->{xs},     0,       'no Crypt::SMIME object';
    my @err = cannot_run_lines($a);
    is scalar @err, 1, 'one err line for the process';
    like $err[0], qr/fails closed \(Crypt::SMIME is not installed\)/,
        'it says why';
    is scalar(@{$a->{logs}}), 2, 'and one line for the message'
        or diag explain $a->{logs};
    like $a->{logs}[-1], qr/sidecar_unavailable: jar not found/,
        'the message line gives the reason';

    $a = ask($daemon, smime_sign => $plain, $secure);
    is $a->{result}, 'undef', 'sign fails closed';
    is_deeply [map {s/:.*//r} @{$a->{logs}}],
        ['err Unable to S/MIME sign message'],
        'next message: its one line only';
    stop($daemon);
}

# fallback = no, and a setting Crypt::SMIME cannot honour: fail closed.
foreach my $case (
    [{SYMPA_SMIME_FALLBACK => 'no'}, qr/fallback = no/],
    [   {SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION => 'yes'},
        qr/require_authenticated_encryption is set/
    ],
) {
    my ($env, $why) = @$case;
    my $dir    = install();
    my $daemon = daemon($dir, %$env, SYMPA_SMIME_JAVA => '/no/java');
    my $a      = ask($daemon, smime_decrypt => $encrypted);
    is $a->{result}, 'undef', "$why: fails closed";
    is $a->{xs},     0,       "$why: no Crypt::SMIME";
    like((cannot_run_lines($a))[0], $why, "$why: says why");
    stop($daemon);
}

# A wrong java (missing, or one that does not start a sidecar), a jar that is
# no jar.
foreach my $case (
    [   'missing java',
        {SYMPA_SMIME_JAVA => '/no/such/java'},
        qr/java not found: "\/no\/such\/java"/
    ],
    [   'java /bin/false',
        {SYMPA_SMIME_JAVA => '/bin/false'},
        qr/does not run: .*exited with status 1/
    ],
    [   'corrupt jar',
        {corrupt_jar => 1},
        qr/does not run: .*Invalid or corrupt jarfile/
    ],
) {
    my ($name, $env, $why) = @$case;
    my $dir = install();
    spurt("$dir/share/sympa-smime.jar", "not a jar\n")
        if delete $env->{corrupt_jar};
    my $daemon = daemon($dir, %$env);
    my $a      = ask($daemon, check_smime_signature => $signed);
    is $a->{result}, 1, "$name: verifies through Crypt::SMIME";
    ok $a->{xs} > 0, "$name: Crypt::SMIME used";
    my @err = grep {/\Aerr /} @{$a->{logs}};
    is scalar @err, 1, "$name: one err line" or diag explain $a->{logs};
    like $err[0], qr/the sidecar cannot run .*$why/, "$name: says why";

    $a = ask($daemon, parse_cert => $pki->{crt}{alice});
    is $a->{result}, 'alice@example.org',
        "$name: parse_cert through Crypt::OpenSSL::X509";
    is_deeply $a->{logs}, [], "$name: and nothing more logged";
    stop($daemon);
}

done_testing();
