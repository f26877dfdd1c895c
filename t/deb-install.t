# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The Debian package on this machine, as an administrator uses it: apt-get
# install; a Sympa process started with the drop-in's environment, as Sympa's
# user, loads the shim from the installed paths and checks a signature
# through the installed jar; sympa-smime-doctor on PATH passes; apt-get
# remove leaves none of the package's files nor what its scripts made, and
# Sympa checks the signature again through Crypt::SMIME; purge removes
# sympa-smime.conf.  The machine is left as it was found, also on failure.
use strict;
use warnings;
use Data::Dumper qw();
use Fcntl        qw(:flock);
use File::Path   qw(make_path remove_tree);
use File::Temp   qw();
use Test::More;

my ($DEB) = glob 'target/sympa-smime_*_all.deb';

BEGIN {
    Test::More::plan(skip_all => 'needs root: installs a package') if $>;
}
plan skip_all =>
    'no target/sympa-smime_*_all.deb (mvn -B -DskipTests package)'
    unless $DEB;
plan skip_all => 'no apt-get or dpkg-query'
    unless has('apt-get', 'dpkg-query');
plan skip_all => 'no sympa user' unless defined getpwnam 'sympa';

use lib 't/lib', 't/e2e/lib';
use SMIMETest;
use SympaE2E::Shim;

# SMIMETest points the sidecar at this tree's jar; the installed commands
# must find theirs.
delete @ENV{grep {/\ASYMPA_SMIME_/} keys %ENV};

my $SHARE    = '/usr/share/sympa-smime';
my $SETTINGS = '/etc/sympa/sympa-smime.conf';

my $armed;    # restore() only once this run may have changed something
END { restore() if $armed }
# A run stopped by a signal (timeout, ^C) goes through END too.
$SIG{$_} = sub { exit 1 }
    foreach qw(INT TERM HUP);
my $lock = lock_daemons();
plan skip_all => 'the sympa-smime package is installed: not ours to remove'
    if installed();

# What is there before, to put back whatever happens: the shim enabled from
# a source tree (an e2e run that found it enabled leaves it so) is put
# aside, and back at the end.
my $stash = File::Temp->new(SUFFIX => '.tar');
my @stashed =
    map {s{\A/}{}r} grep {-e} $SHARE, dropins();
my %dirs_before   = map { ($_ => 1) } glob '/etc/systemd/system/*.service.d';
my $settings      = -e $SETTINGS ? SMIMETest::slurp($SETTINGS) : undef;
my @settings_stat = stat $SETTINGS;

if (@stashed) {
    system('tar', '-C', '/', '-cpf', $stash->filename, @stashed) == 0
        or BAIL_OUT("cannot put aside @stashed");
}
$armed = 1;
remove_tree($SHARE);
unlink dropins();
# The package's paths that are there without it (/usr/sbin...).
my %existed =
    map  { ($_ => 1) }
    grep { -e or -l }
    map  { m{^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\.(/\S+)} ? $1 =~ s{/\z}{}r : () }
    split /\n/, (run('dpkg-deb', '-c', $DEB))[1];

# A signed message, and a directory Sympa's user may write (Sympa stores the
# signer's certificate in ssl_cert_dir).
my $pki    = pki();
my $signed = sign_entity('alice');
my $work   = File::Temp->newdir(DIR => (-d 't/tmp' ? 't/tmp' : undef));
make_path("$work/certs", "$work/tmp");
my ($uid, $gid) = (getpwnam 'sympa')[2, 3];
chown $uid, $gid, "$work", "$work/certs", "$work/tmp";
chmod 0755, "$work";

# --- install, over an installation made from this source tree, which the
# package takes over
my ($rc, $out) = run('perl/bin/sympa-smime-enable');
is $rc, 0, 'first, sympa-smime-enable from the source tree' or diag $out;
($rc, $out) = run(apt_get('install', "./$DEB"));
is $rc, 0, 'apt-get install ./target/...deb' or diag $out;
like $out,
    qr/^Restart Sympa to load the shim: systemctl restart sympa sympasoap wwsympa\r?$/m,
    'install: prints the restart command';
unlike $out, qr/^(?:Stopping|Starting|Restarting) /m,
    'install: restarts nothing';
my @files = package_files();
ok scalar(@files), 'dpkg -L lists the files';

foreach my $path (
    "$SHARE/sympa-smime.jar",
    "$SHARE/lib/Sympa/SMIME/Shim.pm",
    '/usr/sbin/sympa-smime-doctor',
    '/usr/sbin/sympa-smime-enable',
    '/usr/sbin/sympa-smime-disable',
    '/usr/share/man/man8/sympa-smime-doctor.8.gz',
    '/usr/share/man/man5/sympa-smime.conf.5.gz',
    '/usr/share/doc/sympa-smime/install.md',
    '/usr/share/doc/sympa-smime/copyright',
) {
    ok((grep { $_ eq $path } @files), "the package has $path");
}
foreach my $name (map {s{\A.*/}{}r} glob 'perl/bin/*') {
    ok -x "/usr/sbin/$name",                "$name is on PATH";
    ok -f "/usr/share/man/man8/$name.8.gz", "man 8 $name";
    next if -l "perl/bin/$name";
    # Through the link in /usr/sbin, with the installed modules.
    my ($rc, $out) = run("/usr/sbin/$name", '--help');
    is $rc, 0, "$name --help runs from PATH" or diag $out;
    like $out, qr/usage/i, "$name --help: its usage";
}
ok -f "$SHARE/sympa-smime.jsa", 'install: the class-data-sharing archive';
my %env = SympaE2E::Shim::_dropin_env();
is $env{PERL5OPT}, '-MSympa::SMIME::Shim',
    'install: the drop-ins load the shim';

my $check = sympa_check(%env);
is $check->{shim}, "$SHARE/lib/Sympa/SMIME/Shim.pm",
    "Sympa's process loads the installed shim";
is $check->{jar}, "$SHARE/sympa-smime.jar",
    '... which runs the installed jar';
is $check->{signed}, 'yes', '... and verifies a signature';

($rc, $out) = run('sympa-smime-doctor');
is $rc, 0, 'sympa-smime-doctor on PATH passes' or diag $out;
like $out, qr{^ok   sidecar: .* java -jar \Q$SHARE\E/sympa-smime\.jar}m,
    'the doctor runs the installed jar';

# A JDK upgrade (dpkg's trigger on /usr/lib/jvm) makes the archive anew.
unlink "$SHARE/sympa-smime.jsa";
($rc, $out) = run('sh', '-c',
    'dpkg-trigger --no-await /usr/lib/jvm && dpkg --triggers-only sympa-smime'
);
is $rc, 0, 'the /usr/lib/jvm trigger: processed' or diag $out;
ok -f "$SHARE/sympa-smime.jsa",
    'the /usr/lib/jvm trigger: the archive made again';

# A java that cannot run the jar stops the configuration, saying why;
# once java runs, dpkg --configure finishes it.
{
    local $ENV{SYMPA_SMIME_JAVA} = '/bin/false';
    ($rc, $out) = run(apt_get('install', '--reinstall', "./$DEB"));
}
isnt $rc, 0, 'a java that does not run the jar: the configuration stops';
like $out,
    qr{^sympa-smime-enable: /bin/false does not run \Q$SHARE\E/sympa-smime\.jar \(exit status 1\); install Java 17 }m,
    '... saying why and what to do';
($rc, $out) = run('dpkg', '--configure', 'sympa-smime');
is $rc, 0, '... and dpkg --configure finishes it once java runs'
    or diag $out;
my %configured = SympaE2E::Shim::_dropin_env();
is $configured{PERL5OPT}, '-MSympa::SMIME::Shim', '... with the drop-ins';

# Turned off by the administrator: an upgrade keeps it off.
($rc, $out) = run('sympa-smime-disable');
is $rc, 0, 'sympa-smime-disable on PATH' or diag $out;
is_deeply [dropins()], [], 'sympa-smime-disable: no drop-in';
is_deeply [grep { not -e } @files], [],
    "sympa-smime-disable: the package's files kept, also those the source tree's enable had listed";
($rc, $out) = run(apt_get('install', '--reinstall', "./$DEB"));
is $rc, 0, 'reinstall' or diag $out;
like $out, qr/^sympa-smime: left disabled/m, 'reinstall: says it is left off';
is_deeply [dropins()], [], 'reinstall: still no drop-in';
($rc, $out) = run('sympa-smime-enable');
is $rc, 0, 'sympa-smime-enable on PATH' or diag $out;
unlike $out,
    qr{^(?:create|change) /usr/share/sympa-smime/(?:lib|bin|sympa-smime\.jar)}m,
    "sympa-smime-enable on PATH: copies nothing over the package's files";
%env = SympaE2E::Shim::_dropin_env();
is $env{PERL5OPT}, '-MSympa::SMIME::Shim',
    'sympa-smime-enable on PATH: the drop-ins again';

# --- remove
spurt($SETTINGS, "# the administrator's\n") unless defined $settings;
($rc, $out) = run(apt_get('remove', 'sympa-smime'));
is $rc, 0, 'apt-get remove sympa-smime' or diag $out;
like $out,
    qr/^Restart Sympa to stop using the shim: systemctl restart sympa sympasoap wwsympa\r?$/m,
    'remove: prints the restart command';
is_deeply [grep { -e or -l } grep { not $existed{$_} } @files], [],
    "remove: none of the package's files is left";
ok !-e $SHARE, "remove: $SHARE is gone, with the archive";
is_deeply [dropins()], [], 'remove: the drop-ins are gone';
ok -e $SETTINGS, "remove: $SETTINGS is kept";

$check = sympa_check();
is $check->{shim}, 'none', 'after remove: Sympa loads no shim';
is $check->{signed}, 'yes',
    'after remove: Sympa verifies a signature with Crypt::SMIME';

# --- purge
($rc, $out) = run(apt_get('purge', 'sympa-smime'));
is $rc, 0, 'apt-get purge sympa-smime' or diag $out;
ok !-e $SETTINGS, "purge: $SETTINGS is removed";
ok !installed(),  'purge: dpkg knows the package no more';

done_testing();

sub has {
    foreach my $command (@_) {
        return 0 unless grep { -x "$_/$command" } split /:/, $ENV{PATH};
    }
    return 1;
}

sub apt_get {
    return (
        'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-y',
        # Another apt run (a colleague's setup) waits for ours, and ours
        # for it, rather than failing.
        '-o', 'DPkg::Lock::Timeout=300', @_
    );
}

sub run {
    my @command = @_;
    open my $ph, '-|' or do {
        open STDERR, '>&', \*STDOUT;
        exec @command;
        exit 127;
    };
    local $/;
    my $out = <$ph> // '';
    close $ph;
    return ($?, $out);
}

sub installed {
    my ($rc, $out) =
        run('dpkg-query', '-W', '-f', '${db:Status-Status}', 'sympa-smime');
    return ($rc == 0 and $out ne 'not-installed');
}

sub package_files {
    my ($rc, $out) = run('dpkg', '-L', 'sympa-smime');
    return grep { m{\A/} and $_ ne "/." } split /\n/, $out;
}

sub dropins {
    return sort glob '/etc/systemd/system/*.service.d/sympa-smime.conf';
}

# Sympa's library checks a signature, in a process started as Sympa's
# daemons are: as sympa, with nothing in the environment but PATH and what
# %env adds (the drop-in's Environment=).
sub sympa_check {
    my %env  = @_;
    my $conf = Data::Dumper->new(
        [   {   home           => "$work",
                ssl_cert_dir   => "$work/certs",
                tmpdir         => "$work/tmp",
                cafile         => $pki->{cafile},
                sender_headers => 'From',
                domain         => 'lists.example.org',
            }
        ]
    )->Terse(1)->Indent(0)->Dump;
    my $code = <<"EOF";
use strict;
use warnings;
use lib '$SYMPA_LIB';
use Conf;
use Sympa::Message;
\%Conf::Conf = \%{$conf};
local \$/;
my \$message = Sympa::Message->new(scalar <STDIN>, context => '*',
    sender => 'alice\@example.org');
\$message->check_smime_signature;
print "shim ", \$INC{'Sympa/SMIME/Shim.pm'} // 'none', "\\n";
print "jar ", Sympa::SMIME::Sidecar->config->{jar}, "\\n"
    if \$INC{'Sympa/SMIME/Sidecar.pm'};
print "signed ", \$message->{smime_signed} ? 'yes' : 'no', "\\n";
EOF
    my $script = "$work/check.pl";
    spurt($script, $code);
    my $input = "$work/message";
    spurt($input, $signed);
    my ($rc, $out) = run(
        'sh',
        '-c',
        'exec "$@" < ' . $input,
        'sh',
        'runuser',
        '-u',
        'sympa',
        '--',
        'env',
        '-i',
        'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
        (map {"$_=$env{$_}"} sort keys %env),
        'perl',
        $script
    );
    diag $out if $rc;
    return {$out =~ /^(shim|jar|signed) (.*)$/mg};
}

# Sympa's daemons and /usr/share/sympa-smime are shared with the e2e suite,
# which enables the shim from a source tree: hold its lock, unless this run
# was started under it (flock /tmp/sympa-daemons.lock prove ...).
sub lock_daemons {
    my $file = '/tmp/sympa-daemons.lock';
    open my $fh, '>>', $file or die "$file: $!";
    return $fh if held_by_ancestor($file);
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 900;
        flock $fh, LOCK_EX;
        alarm 0;
        1;
    };
    plan skip_all => "$file held by another run for 15 minutes" unless $ok;
    return $fh;
}

sub held_by_ancestor {
    my $inode = (stat shift)[1];
    open my $locks, '<', '/proc/locks' or return 0;
    my %holders;
    while (<$locks>) {
        # 1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF
        next
            unless
            /\bFLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/;
        $holders{$1} = 1 if $2 == $inode;
    }
    for (my $pid = getppid; $pid > 1; $pid = parent_of($pid)) {
        return 1 if $holders{$pid};
    }
    return 0;
}

sub parent_of {
    open my $fh, '<', "/proc/$_[0]/stat" or return 0;
    return (<$fh> // '') =~ /\)\s+\S\s+(\d+)/ ? $1 : 0;
}

# Whatever happened: no package, no drop-in or directory of ours, the
# settings file as it was.
sub restore {
    my $status = $?;
    if (installed()) {
        my ($rc, $out) = run(apt_get('purge', 'sympa-smime'));
        ($rc, $out) = run('dpkg', '--purge', '--force-all', 'sympa-smime')
            if $rc;
        diag "cleanup: $out" if $rc;
    }
    unlink dropins();
    rmdir
        foreach grep { not $dirs_before{$_} }
        glob '/etc/systemd/system/*.service.d';
    remove_tree($SHARE) if -e $SHARE;
    system('tar', '-C', '/', '-xpf', $stash->filename) == 0
        or diag "cannot put back @stashed from " . $stash->filename
        if @stashed;
    if (defined $settings) {
        spurt($SETTINGS, $settings);
        chmod $settings_stat[2] & 07777, $SETTINGS;
        chown @settings_stat[4, 5], $SETTINGS;
    } else {
        unlink $SETTINGS;
    }
    $? = $status;
}
