# Settings: environment over file over defaults; missing java or jar.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Temp qw();
use Test::More;
use SidecarTest qw($ROOT fake_java);
use TrustedTmp  qw(trusted_tempdir);
use Sympa::SMIME::Sidecar;

delete $ENV{SYMPA_SMIME_JAR};
my @warned;
$SIG{__WARN__} = sub { push @warned, $_[0] };

# Not in /tmp: a file in a directory others can write to is refused (see
# "Trust" below).
my $dir  = trusted_tempdir();
my $file = "$dir/sympa-smime.conf";

sub write_file {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $content;
    close $fh;
}
write_file("$dir/dummy.jar", "not really a jar\n");

# Defaults.
$ENV{SYMPA_SMIME_CONFIG} = "$dir/none.conf";
my $conf     = Sympa::SMIME::Sidecar->config;
my $repo_jar = "$ROOT/target/sympa-smime.jar";
is( $conf->{jar},
    (-f $repo_jar ? $repo_jar : '/usr/share/sympa-smime/sympa-smime.jar'),
    'default jar: the repository build, else the installed path'
);
is_deeply(
    [   @{$conf}{
            qw(java java_opts timeout idle_timeout cipher key_transport crl_path crl_required
                require_authenticated_encryption md5 sha1 dsa min_rsa_bits
                strong_rsa_bits min_ec_bits)
        }
    ],
    [   'java',
        '-Xmx512m -Xms16m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=48m'
            . ' -XX:MaxMetaspaceSize=128m -XX:CICompilerCount=2',
        60,
        300,
        'aes-128-cbc',
        'rsa-pkcs1',
        undef,
        0,
        0,
        # The algorithm policy's defaults are the sidecar's own.
        (undef) x 6
    ],
    'defaults'
);
is_deeply(
    [values %{$conf->{sources}}],
    [('default') x 17],
    'all from defaults'
);
like(
    "@warned",
    qr/cannot read \Q$dir\E\/none\.conf/,
    'a config file named explicitly but missing is reported'
);

# File.
$ENV{SYMPA_SMIME_CONFIG} = $file;
write_file($file, <<"CONF");
# comment
  jar = $dir/dummy.jar
java=/opt/java/bin/java
timeout = 7
cipher = AES-256-CBC

colour = blue
this line is wrong
CONF
@warned = ();
$conf   = Sympa::SMIME::Sidecar->config;
is($conf->{jar},     "$dir/dummy.jar",     'jar from file');
is($conf->{java},    '/opt/java/bin/java', 'java from file');
is($conf->{timeout}, 7,                    'timeout from file');
is($conf->{cipher},  'aes-256-cbc',        'cipher from file, lower case');
is($conf->{key_transport},          'rsa-pkcs1', 'key_transport default');
is($conf->{config_file},            $file,       'config_file');
is($conf->{sources}{timeout},       'file',      'source file');
is($conf->{sources}{key_transport}, 'default',   'source default');
is((grep {/unknown setting "colour"/} @warned),    1, 'unknown key warned');
is((grep {/line 8 is not "key = value"/} @warned), 1, 'bad line warned');

# Environment over file.
$ENV{SYMPA_SMIME_TIMEOUT}       = 9;
$ENV{SYMPA_SMIME_KEY_TRANSPORT} = 'rsa-oaep';
$ENV{SYMPA_SMIME_JAVA_OPTS}     = q{-Da=1 "-Db=two words"};
$conf                           = Sympa::SMIME::Sidecar->config;
is($conf->{timeout},       9,             'env timeout over file');
is($conf->{key_transport}, 'rsa-oaep',    'env key_transport over default');
is($conf->{cipher},        'aes-256-cbc', 'file still used for the rest');
is($conf->{sources}{timeout}, 'env',      'source env');

# Unknown keys are reported once per process, even when the file changes.
write_file($file, <<"CONF");
jar = $dir/dummy.jar
colour = red
timeout = 7
CONF
utime time - 100, time - 100, $file;    # a different mtime, for sure
$conf = Sympa::SMIME::Sidecar->config;
is((grep {/unknown setting "colour"/} @warned), 1, 'warned only once');
is($conf->{cipher}, 'aes-128-cbc', 'file read again after it changed');

# Bad values.
{
    local $ENV{SYMPA_SMIME_TIMEOUT} = 'soon';
    local $ENV{SYMPA_SMIME_CIPHER}  = 'rc2-40';
    @warned = ();
    $conf   = Sympa::SMIME::Sidecar->config;
    is($conf->{timeout}, 60, 'bad timeout: default');
    like(
        "@warned",
        qr/timeout "soon" \(env\) is not a positive number/,
        'bad timeout reported'
    );
    is($conf->{cipher}, 'rc2-40',
        'unknown cipher passed on for the sidecar to refuse');
    like("@warned", qr/cipher "rc2-40"/, 'and reported');
    local $ENV{SYMPA_SMIME_IDLE_TIMEOUT} = '5m';
    @warned = ();
    $conf   = Sympa::SMIME::Sidecar->config;
    is($conf->{idle_timeout}, 300, 'bad idle_timeout: default');
    like(
        "@warned",
        qr/idle_timeout "5m" \(env\) is not a whole number of seconds/,
        'bad idle_timeout reported'
    );
    local $ENV{SYMPA_SMIME_IDLE_TIMEOUT} = '0';
    is(Sympa::SMIME::Sidecar->config->{idle_timeout},
        0, 'idle_timeout 0 (never) is taken');
}

# Revocation settings.
{
    local $ENV{SYMPA_SMIME_CRL_PATH} = "$dir/crls";
    @warned = ();
    $conf   = Sympa::SMIME::Sidecar->config;
    is($conf->{crl_path},          "$dir/crls", 'crl_path from env');
    is($conf->{sources}{crl_path}, 'env',       'source env');
    is($conf->{crl_required},      0, 'crl_required: no by default');
    foreach my $value (qw(yes YES true on 1)) {
        local $ENV{SYMPA_SMIME_CRL_REQUIRED} = $value;
        is(Sympa::SMIME::Sidecar->config->{crl_required}, 1, "\"$value\": 1");
    }
    foreach my $value (qw(no False off 0)) {
        local $ENV{SYMPA_SMIME_CRL_REQUIRED} = $value;
        is(Sympa::SMIME::Sidecar->config->{crl_required}, 0, "\"$value\": 0");
    }
    is("@warned", '', 'nothing reported');
    local $ENV{SYMPA_SMIME_CRL_REQUIRED} = 'maybe';
    is(Sympa::SMIME::Sidecar->config->{crl_required},
        1, 'an unreadable crl_required is taken as yes');
    like(
        "@warned",
        qr/crl_required "maybe" \(env\) is neither yes nor no; taken as yes/,
        'and reported'
    );
}
{
    local $ENV{SYMPA_SMIME_CRL_REQUIRED} = 'yes';
    @warned = ();
    $conf   = Sympa::SMIME::Sidecar->config;
    is($conf->{crl_path}, undef, 'no crl_path');
    like(
        "@warned",
        qr/crl_required is set but crl_path is not/,
        'crl_required alone is reported'
    );
}
write_file($file, "crl_path = $dir/file-crls\ncrl_required = no\n");
utime time - 200, time - 200, $file;
$conf = Sympa::SMIME::Sidecar->config;
is($conf->{crl_path},     "$dir/file-crls", 'crl_path from file');
is($conf->{crl_required}, 0,                'crl_required from file');

# require_authenticated_encryption: a yes/no switch like crl_required.
write_file($file, "require_authenticated_encryption = Yes\n");
utime time - 250, time - 250, $file;
$conf = Sympa::SMIME::Sidecar->config;
is($conf->{require_authenticated_encryption},
    1, 'require_authenticated_encryption from file');
is($conf->{sources}{require_authenticated_encryption}, 'file', 'source file');
{
    local $ENV{SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION} = 'off';
    is(Sympa::SMIME::Sidecar->config->{require_authenticated_encryption},
        0, 'env over file');
    local $ENV{SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION} = 'sometimes';
    @warned = ();
    is(Sympa::SMIME::Sidecar->config->{require_authenticated_encryption},
        1, 'an unreadable value is taken as yes');
    like(
        "@warned",
        qr/require_authenticated_encryption "sometimes" \(env\) is neither yes nor no; taken as yes/,
        'and reported'
    );
}
write_file($file, "jar = $dir/dummy.jar\n");
utime time - 300, time - 300, $file;

# Overrides given to new() win, and java_opts reach the command line.
my $sidecar = Sympa::SMIME::Sidecar->new(java => fake_java());
is($sidecar->config->{java},          fake_java(), 'override');
is($sidecar->config->{sources}{java}, 'override',  'source override');
is($sidecar->config->{timeout},       9,           'others as configured');
is_deeply(
    $sidecar->call('test.echo')->{argv},
    [   "-Dsympa.smime.owner=sidecar-config.t/$$",
        qw(-XX:+ExitOnOutOfMemoryError -XX:+DisplayVMOutputToStderr
            -Xlog:disable -Xlog:all=warning:stderr),
        '-Dsympa.smime.idleExitSeconds=300',
        '-Da=1', '-Db=two words', '-jar', "$dir/dummy.jar"
    ],
    'command line: whose it is, our JVM options, the idle exit, java_opts (shell quoting), -jar, the jar'
);
$sidecar->shutdown;

# Missing pieces name the path.
sub failure {
    my $sidecar = Sympa::SMIME::Sidecar->new(@_);
    my $error   = eval { $sidecar->call('service.version'); undef } || $@;
    return $error;
}
my $error = failure(java => fake_java(), jar => "$dir/missing.jar");
is($error->reason, 'sidecar_unavailable', 'missing jar');
like(
    $error->message,
    qr/jar not found: \Q$dir\E\/missing\.jar/,
    'message names the jar'
);
$error = failure(java => "$dir/no/java");
is($error->reason, 'sidecar_unavailable', 'missing java');
like(
    $error->message,
    qr/java not found: "\Q$dir\E\/no\/java"/,
    'message names java'
);
$error = failure(java => 'no-such-java-here');
like(
    $error->message,
    qr/"no-such-java-here" \(not in PATH/,
    'java looked up in PATH'
);
{
    local $ENV{SYMPA_SMIME_JAVA} = "$dir/env/java";
    $error = failure();
    like($error->message, qr/\Q$dir\E\/env\/java/,
        'SYMPA_SMIME_JAVA used by default');
}
write_file("$dir/badjava", "#!/nonexistent/interpreter\n");
chmod 0755, "$dir/badjava";
$error = failure(java => "$dir/badjava");
is($error->reason, 'sidecar_unavailable', 'java that cannot be executed');
like($error->message, qr/cannot start \Q$dir\E\/badjava/, 'says so');
$error = failure(java => fake_java(), java_opts => q{-Dx="unbalanced});
like($error->message, qr/java_opts cannot be parsed/, 'unbalanced quote');

# A file others can write names the java run as this user: it is not used
# and no sidecar starts until it is fixed.
write_file($file,            "jar = $dir/dummy.jar\njava = $dir/evil-java\n");
write_file("$dir/evil-java", "#!/bin/sh\nexit 0\n");
chmod 0755, "$dir/evil-java";
chmod 0666, $file;
@warned = ();
$conf   = Sympa::SMIME::Sidecar->config;
like(
    $conf->{error},
    qr/^\Q$file\E is writable by everyone \(mode 0666\)/,
    'world-writable file: refused'
);
is($conf->{java}, 'java', 'world-writable file: its settings are not used');
$error = failure(java_opts => '');
is($error->reason, 'sidecar_unavailable', 'world-writable file: no sidecar');
like($error->message, qr/writable by everyone/, 'world-writable file: why');
is((grep {/writable by everyone/} @warned),
    1, 'world-writable file: reported');
chmod 0640, $file;    # only the mode changes, not the time nor the size
$conf = Sympa::SMIME::Sidecar->config;
is($conf->{error}, undef,            'chmod o-w: accepted at once');
is($conf->{java},  "$dir/evil-java", 'chmod o-w: its settings are used');
mkdir "$dir/open";
chmod 0777, "$dir/open";
write_file("$dir/open/sympa-smime.conf", "cipher = aes-256-gcm\n");
{
    local $ENV{SYMPA_SMIME_CONFIG} = "$dir/open/sympa-smime.conf";
    like(
        Sympa::SMIME::Sidecar->config->{error},
        qr/is in \Q$dir\E\/open, which is writable by everyone \(mode 0777\)/,
        'file in a world-writable directory: refused'
    );
    chmod 01777, "$dir/open";
    my $conf = Sympa::SMIME::Sidecar->config;
    like(
        $conf->{error},
        qr/is in \Q$dir\E\/open, which is writable by everyone \(mode 1777\)/,
        'a sticky directory (as /tmp): refused too'
    );
    is($conf->{cipher}, 'aes-128-cbc', '... and not used');
    chmod 0755, "$dir/open";
    $conf = Sympa::SMIME::Sidecar->config;
    is($conf->{error},  undef,         'chmod 0755: accepted at once');
    is($conf->{cipher}, 'aes-256-gcm', '... and used');
}
SKIP: {
    skip 'chown needs root', 2 if $>;
    chown 65534, -1, $file;
    like(
        Sympa::SMIME::Sidecar->config->{error},
        qr/is owned by uid 65534, neither root nor this user/,
        'file owned by another user: refused'
    );
    chown 0, -1, $file;
    is(Sympa::SMIME::Sidecar->config->{error}, undef, 'owned by root: used');
}
{
    local $ENV{SYMPA_SMIME_CONFIG} = '/dev/null';
    is(Sympa::SMIME::Sidecar->config->{error},
        undef, '/dev/null (not a regular file): fine');
}

# Trust, as root sees it: the file and every directory up to / must be owned
# by root (or this user) and writable by nobody else, and the file must not
# be a symbolic link.  Otherwise the sympa user could choose the java a root
# process (sympa-smime-doctor --keep-user) runs.
SKIP: {
    skip 'chown needs root', 27 if $>;
    my $sympa = getpwnam('sympa') // 65534;
    chmod 0755, "$dir";    # so that the sympa user can look, below
    my $t = "$dir/trust";
    mkdir $_
        foreach $t, "$t/good", "$t/up-sympa", "$t/up-sympa/etc",
        "$t/up-group", "$t/up-group/etc", "$t/in-sympa";
    chown $sympa, -1, "$t/up-sympa", "$t/in-sympa";
    chmod 0775, "$t/up-group";
    my $content = "cipher = aes-256-gcm\n";
    write_file($_, $content)
        foreach map {"$t/$_/sympa-smime.conf"}
        qw(good up-sympa/etc up-group/etc in-sympa);
    symlink 'sympa-smime.conf', "$t/good/link.conf";
    symlink "$t/good",          "$t/in-sympa/link";
    symlink 'good',             "$t/good-link";

    # The error for $path (undef when trusted), and whether it was used.
    my $verdict = sub {
        local $ENV{SYMPA_SMIME_CONFIG} = shift;
        my $conf = Sympa::SMIME::Sidecar->config;
        return ($conf->{error}, $conf->{cipher} eq 'aes-256-gcm');
    };
    my ($error, $used) = $verdict->("$t/good/sympa-smime.conf");
    is($error, undef,
        'root:root 0644 in root:root 0755 directories: trusted');
    ok($used, '... and used');

    foreach my $case (
        [   'a symbolic link to a good file' => "$t/good/link.conf",
            qr/link\.conf is a symbolic link:/
        ],
        [   'a file owned by sympa' => "$t/good/sympa-smime.conf",
            qr/sympa-smime\.conf is owned by uid $sympa, neither root nor this user \(0\)/,
            sub { chown $sympa, -1, shift },
            sub { chown 0,      -1, shift }
        ],
        [   'a group-writable file' => "$t/good/sympa-smime.conf",
            qr/sympa-smime\.conf is writable by its group \(mode 0664\)/,
            sub { chmod 0664, shift },
            sub { chmod 0644, shift }
        ],
        [   'a world-writable file' => "$t/good/sympa-smime.conf",
            qr/sympa-smime\.conf is writable by everyone \(mode 0646\)/,
            sub { chmod 0646, shift },
            sub { chmod 0644, shift }
        ],
        [   'its directory owned by sympa' => "$t/in-sympa/sympa-smime.conf",
            qr/is in \Q$t\E\/in-sympa, which is owned by uid $sympa, neither root nor this user/
        ],
        [   'a directory further up owned by sympa' =>
                "$t/up-sympa/etc/sympa-smime.conf",
            qr/is in \Q$t\E\/up-sympa, which is owned by uid $sympa/
        ],
        [   'a group-writable directory further up' =>
                "$t/up-group/etc/sympa-smime.conf",
            qr/is in \Q$t\E\/up-group, which is writable by its group \(mode 0775\)/
        ],
        [   'a symbolic link to a good directory, in a directory of sympa' =>
                "$t/in-sympa/link/sympa-smime.conf",
            qr/is in \Q$t\E\/in-sympa, which is owned by uid $sympa/
        ],
    ) {
        my ($name, $path, $why, $break, $repair) = @$case;
        $break->($path) if $break;
        @warned = ();
        my ($error, $used) = $verdict->($path);
        like($error, $why, "$name: refused, saying why");
        ok(!$used, "$name: its settings are not used");
        is((grep {/\Q$path\E .*no sidecar starts/} @warned),
            1, "$name: one log line");
        $repair->($path) if $repair;
    }
    is(($verdict->("$t/good/sympa-smime.conf"))[0],
        undef, 'the file repaired: trusted again at once');

    ($error, $used) = $verdict->("$t/good-link/sympa-smime.conf");
    is($error, undef,
        'a symbolic link to a directory, in a trusted directory: trusted');
    ok($used, '... and used');

    # No sidecar starts from such a file.
    {
        local $ENV{SYMPA_SMIME_CONFIG} = "$t/up-sympa/etc/sympa-smime.conf";
        my $error = failure(java_opts => '');
        is($error->reason, 'sidecar_unavailable',
            'a directory of sympa above: no sidecar');
        like(
            $error->message,
            qr/is in \Q$t\E\/up-sympa, which is owned by/,
            '... and the error says why'
        );
    }

    # A chmod of a directory further up is seen at once.
    chmod 0755, "$t/up-group";
    ($error, $used) = $verdict->("$t/up-group/etc/sympa-smime.conf");
    is($error, undef, 'chmod g-w of a directory further up: trusted at once');
    ok($used, '... and used');

    # The sympa user itself may use a file of its own in its own directory
    # (Sympa's daemons, /etc/sympa on Debian belongs to sympa).
    chown $sympa, -1, "$t/in-sympa/sympa-smime.conf";
    {
        local $> = $sympa;
        ($error, $used) = $verdict->("$t/in-sympa/sympa-smime.conf");
    }
    is($>,     0,     'back to root');
    is($error, undef, 'run as sympa: its own file and directory are trusted');
    ok($used, '... and used');
    ($error) = $verdict->("$t/in-sympa/sympa-smime.conf");
    like($error, qr/is owned by uid $sympa/, 'while root still refuses them');
}
write_file($file, "\xEF\xBB\xBFcipher = aes-192-cbc\n");
@warned = ();
is(Sympa::SMIME::Sidecar->config->{cipher},
    'aes-192-cbc', 'a UTF-8 BOM is skipped');
is("@warned", '', '... silently');

ok(!eval { Sympa::SMIME::Sidecar->new(colour => 1); 1 },
    'unknown override croaks');
ok(!eval { Sympa::SMIME::Sidecar->new(timeout => 0); 1 },
    'zero timeout croaks');

done_testing;
