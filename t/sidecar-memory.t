# A sidecar with a small heap answers every large request, or refuses it
# with too_large, and does not die of it.  One that runs out of memory all
# the same is logged with that cause, and the JVM's words never reach stdout.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Temp   qw(tempdir);
use IPC::Open3   qw();
use MIME::Base64 qw(encode_base64 decode_base64);
use Symbol       qw();
use Test::More;
use SidecarTest qw(require_jar);
use TestPKI;

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

# Inside Sympa, lines go to Sympa::Log with a level: that is what is checked.
my @syslog;
{
    no warnings 'once';
    *Sympa::Log::instance = sub { bless {}, 'Sympa::Log' };
    *Sympa::Log::syslog   = sub {
        my ($self, $level, $format, @args) = @_;
        push @syslog, [$level, sprintf $format, @args];
    };
}

my $dir = tempdir(CLEANUP => 1);
# Self-signed, as openssl req -x509 makes it.
my $cert = TestPKI->new($dir)->issue(
    'memory',
    subject    => '/CN=Memory/emailAddress=memory@example.org',
    days       => 2,
    extensions => <<'EOF')->{cert};
basicConstraints = critical, CA:true
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always, issuer
EOF

# A java that notes its arguments, so that the command can be replayed.
my $java = "$dir/java";
open my $fh, '>', $java or die $!;
print $fh
    qq{#!/bin/sh\nprintf '%s\\n' "\$@" > "$dir/args"\nexec java "\$@"\n};
close $fh;
chmod 0755, $java;

sub entity_b64 {
    my $size = shift;
    my $body = join '', map { ('x' x 75) . "\n" } 1 .. int($size / 76);
    return encode_base64("Content-Type: text/plain\n\n$body", '');
}

sub encrypt {
    my $b64 = shift;
    return [
        'smime.encrypt', {entity_b64 => $b64, recipients => [{path => $cert}]}
    ];
}

# 64 MiB of heap: a request costing 8 bytes per byte fits up to about
# 4.7 MiB, two at once do not.  So the two 4 MiB ones must take turns, and
# the 8 MiB one can never fit.
{
    my $sidecar = Sympa::SMIME::Sidecar->new(
        java      => $java,
        java_opts => '-Xmx64m -XX:+UseSerialGC',
        timeout   => 300,
    );
    is($sidecar->call('service.version')->{name}, 'sympa-smime', 'started');
    my $pid = $sidecar->pid;
    @syslog = ();

    my $big     = entity_b64(3 << 20);
    my $huge    = entity_b64(6 << 20);
    my @answers = $sidecar->call_many(
        [encrypt($big), encrypt($big), encrypt($huge), ['service.health']]);

    foreach my $i (0, 1) {
        my $result = $answers[$i]{result};
        ok($result, "big request $i answered")
            or diag explain $answers[$i]{error};
        like(
            decode_base64($result ? $result->{message_b64} : ''),
            qr/\AMIME-Version: 1\.0\r\n/,
            "big request $i encrypted"
        );
    }
    my $error = $answers[2]{error};
    is(ref $error && $error->reason, 'too_large', 'the huge one: too_large');
    like(
        ref $error && $error->message,
        qr/-Xmx in java_opts/,
        'its message says what to change'
    );
    is($answers[3]{result} && $answers[3]{result}{status},
        'ok', 'the small one after it answered');
    is($sidecar->pid, $pid, 'the same sidecar survived');
    is_deeply([grep { $_->[1] =~ /failed|restart|not JSON/ } @syslog],
        [], 'no failure, no restart, nothing but JSON on stdout');
    $sidecar->shutdown;
}

# Our options come first, always, so that java_opts can still override.
{
    open my $args, '<', "$dir/args" or die $!;
    chomp(my @args = <$args>);
    is_deeply(
        [@args[0 .. 4], @args[-4, -3]],
        [   "-Dsympa.smime.owner=sidecar-memory.t/$$",
            qw(-XX:+ExitOnOutOfMemoryError -XX:+DisplayVMOutputToStderr
                -Xlog:disable -Xlog:all=warning:stderr -Xmx64m -XX:+UseSerialGC)
        ],
        'JVM output goes to stderr, and out of memory means exit; java_opts last'
    );
}

# 4 MiB of heap is too little to start: the sidecar dies of OutOfMemoryError.
{
    @syslog = ();
    my $sidecar = Sympa::SMIME::Sidecar->new(
        java      => $java,
        java_opts => '-Xmx4m -XX:+UseSerialGC',
    );
    my $error = eval { $sidecar->call('service.version'); undef } || $@;
    is(ref $error && $error->reason,
        'sidecar_unavailable', 'out of memory twice: sidecar_unavailable');
    like(
        ref $error && $error->message,
        qr/ran out of memory .*-Xmx in java_opts.*exited with status 3.*last stderr: .*Terminating due to java\.lang\.OutOfMemoryError/,
        'the error gives the cause, what to change and the JVM line'
    );
    unlike(ref $error && $error->message,
        qr/not JSON/, 'nothing on stdout but JSON');
    # A JVM that does not start cannot run: no request is to blame, and
    # the caller logs the error it gets (the shim, once per process).
    ok(ref $error && $error->cannot_run, 'it cannot run');
    my @failures = grep { $_->[0] eq 'err' } @syslog;
    is(scalar @failures, 0, 'no err line of the client\'s own')
        or diag explain \@syslog;

    # The same command by hand: the JVM's line is on stderr, stdout is empty.
    open my $args, '<', "$dir/args" or die $!;
    chomp(my @args = <$args>);
    my $err = Symbol::gensym();
    my $pid = IPC::Open3::open3(my $in, my $out, $err, 'java', @args);
    print $in qq{{"id":1,"jsonrpc":"2.0","method":"service.version"}\n};
    close $in;
    my $stdout = do { local $/; <$out> };
    my $stderr = do { local $/; <$err> };
    waitpid $pid, 0;
    is($? >> 8, 3,  'the JVM exits with status 3');
    is($stdout, '', 'stdout: nothing');
    like(
        $stderr,
        qr/^Terminating due to java\.lang\.OutOfMemoryError/m,
        'stderr: the OutOfMemoryError'
    );
}

done_testing();
