# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime-enable / sympa-smime-disable --root into a temporary tree with
# Debian's Sympa units: what is created, its content, what is printed, and a
# round trip that leaves the tree exactly as it was.
use strict;
use warnings;
use Cwd        qw(abs_path);
use File::Find qw(find);
use File::Path qw(make_path);
use File::Temp qw();
use Test::More;

# An administrator's umask must not make the installed files unreadable to
# Sympa's user.
umask 077;

my $bin  = abs_path('perl/bin');
my $tmp  = File::Temp->newdir(DIR => (-d 't/tmp' ? 't/tmp' : undef));
my $root = "$tmp/root";

sub spurt {
    my ($file, $content) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $content;
    close $fh;
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

# {path => [mode, content]} of the whole tree.
sub tree {
    my %tree;
    find(
        {   no_chdir => 1,
            wanted   => sub {
                (my $path = $File::Find::name) =~ s{\A\Q$root\E}{};
                my $mode = (lstat $_)[2];
                $tree{$path || '/'} = [$mode, (-f $_ ? slurp($_) : undef)];
            },
        },
        $root
    );
    return \%tree;
}

sub run {
    my @args = @_;
    open my $ph, '-|' or do {
        open STDERR, '>&', \*STDOUT;
        exec $^X, @args;
        exit 127;
    };
    local $/;
    my $out = <$ph> // '';
    close $ph;
    return ($?, $out);
}

# Debian's units (names as in the sympa package).
my @units = qw(sympa.service sympa-archived.service sympa-bounced.service
    sympa-bulk.service sympa-task_manager.service sympasoap.service
    wwsympa.service);
make_path("$root/lib/systemd/system",
    "$root/etc/systemd/system/wwsympa.service.d");
spurt("$root/lib/systemd/system/$_", "[Service]\nExecStart=/bin/true\n")
    foreach qw(sympa.service sympasoap.service wwsympa.service wwsympa.socket
    sympasoap.socket other.service);
# As Debian's: restarting sympa.service restarts them.
spurt("$root/lib/systemd/system/$_",
    "[Unit]\nPartOf=sympa.service\n[Service]\nExecStart=/bin/true\n")
    foreach grep { !/\A(sympa|sympasoap|wwsympa)\.service\z/ } @units;
spurt("$root/etc/systemd/system/wwsympa.service.d/local.conf", "# admin's\n");
my $jar = "$tmp/sympa-smime.jar";
spurt($jar, "not really a jar\n");

# A java that runs this jar's "version" and nothing else: enough for the
# files; the archive is made with the real jar and java below.
my $java = "$tmp/java";
spurt($java,
    qq{#!/bin/sh\n[ "\$1 \$3" = "-jar version" ] && echo "sympa-smime 9.9" && exit 0\nexit 1\n}
);
chmod 0755, $java;
my @enable = (
    "$bin/sympa-smime-enable", '--root', $root, '--jar', $jar, '--java',
    $java
);
my $before = tree();

# A java that cannot run the sidecar is refused before anything is written.
{
    local $ENV{SYMPA_SMIME_JAVA} = '/bin/false';
    my ($rc, $out) = run(grep { $_ ne '--java' and $_ ne $java } @enable);
    is $rc >> 8, 1, 'SYMPA_SMIME_JAVA=/bin/false: refused';
    like $out,
        qr{^sympa-smime-enable: /bin/false does not run \Q$jar\E \(exit status 1\); install Java 17 .*Nothing was changed\.$}m,
        'SYMPA_SMIME_JAVA=/bin/false: says why and what to do';
    is_deeply tree(), $before, 'SYMPA_SMIME_JAVA=/bin/false: nothing changed';

    $ENV{SYMPA_SMIME_JAVA} = "$tmp/no-such-java";
    ($rc, $out) = run(grep { $_ ne '--java' and $_ ne $java } @enable);
    is $rc >> 8, 1, 'a missing java: refused';
    like $out,
        qr{^sympa-smime-enable: \Q$tmp\E/no-such-java is not an executable file; }m,
        'a missing java: says so';
    is_deeply tree(), $before, 'a missing java: nothing changed';
}
SKIP: {
    skip 'no java in PATH', 3
        unless grep { -x "$_/java" } split /:/, $ENV{PATH};
    my ($rc, $out) = run(grep { $_ ne '--java' and $_ ne $java } @enable);
    is $rc >> 8, 1, 'a jar that is no jar: refused';
    like $out,
        qr{^sympa-smime-enable: \S*java does not run \Q$jar\E \(exit status 1: .*\); install}m,
        "a jar that is no jar: refused, with java's last words";
    is_deeply tree(), $before, 'a jar that is no jar: nothing changed';
}

my ($rc, $out) = run(@enable, '--dry-run');
is $rc, 0, 'dry run: success';
is_deeply tree(), $before, 'dry run: nothing changed';
like $out,
    qr/^would create \Q$root\E\/usr\/share\/sympa-smime\/sympa-smime\.jar$/m,
    'dry run: tells what it would do';

($rc, $out) = run(@enable);
is $rc, 0, 'enable: success';
my $after   = tree();
my @created = sort grep { not $before->{$_} } keys %$after;
my @printed = sort map  {s{/\z}{}r} $out =~ /^create \Q$root\E(\/.*)$/mg;
is_deeply \@printed, \@created, 'enable prints every file it creates';
is_deeply [grep { -d "$root$_" and ($after->{$_}[0] & 07777) != 0755 }
        @created], [], 'directories are 0755 whatever the umask';

my $dropin = <<'EOF';
[Service]
Environment=PERL5LIB=/usr/share/sympa-smime/lib
Environment=PERL5OPT=-MSympa::SMIME::Shim
EOF
foreach my $unit (@units) {
    my $file = "$root/etc/systemd/system/$unit.d/sympa-smime.conf";
    ok -f $file, "drop-in for $unit";
    like slurp($file), qr/\Q$dropin\E\z/, "$unit: PERL5LIB and PERL5OPT";
}
ok !-e "$root/etc/systemd/system/$_.d", "no drop-in for $_"
    foreach qw(wwsympa.socket other.service);
is slurp("$root/usr/share/sympa-smime/sympa-smime.jar"), slurp($jar),
    'the jar';
is slurp("$root/usr/share/sympa-smime/lib/Sympa/SMIME/Shim.pm"),
    slurp('perl/lib/Sympa/SMIME/Shim.pm'), 'the shim';
is((stat "$root/usr/share/sympa-smime/lib/Sympa/SMIME/Shim.pm")[2] & 07777,
    0644, 'files are 0644');
my $doctor = "$root/usr/share/sympa-smime/bin/sympa-smime-doctor";
is slurp($doctor), slurp("$bin/sympa-smime-doctor"), 'the doctor';
is((stat $doctor)[2] & 07777, 0755, 'the doctor is 0755');
like slurp("$root/usr/share/sympa-smime/installed-files"),
    qr{^file /usr/share/sympa-smime/bin/sympa-smime-doctor$}m,
    'the doctor is in the manifest';

# The installed doctor runs, with the installed modules.
spurt("$tmp/ShowInc.pm",
    'package ShowInc; END { print "modules from $INC{q{Sympa/SMIME/Sidecar.pm}}\n" } 1;'
);
my ($doctor_rc, $doctor_out) = run("-I$tmp", '-MShowInc', $doctor, '--help');
is $doctor_rc, 0, 'the installed doctor runs';
like $doctor_out, qr/^usage: sympa-smime-doctor/m,
    'the installed doctor: usage';
like $doctor_out,
    qr{^modules from \Q@{[abs_path($root)]}\E/usr/share/sympa-smime/bin/\.\./lib/Sympa/SMIME/Sidecar\.pm$}m,
    'the installed doctor loads the installed modules';
my $command = "$root/usr/share/sympa-smime/bin/sympa-smime";
is((stat $command)[2] & 07777, 0755, 'sympa-smime is installed, 0755');
my ($command_rc, $command_out) =
    run("-I$tmp", '-MShowInc', $command, '--help');
is $command_rc, 0, 'the installed sympa-smime runs';
like $command_out,
    qr{^modules from \Q@{[abs_path($root)]}\E/usr/share/sympa-smime/bin/\.\./lib/Sympa/SMIME/Sidecar\.pm$}m,
    'the installed sympa-smime loads the installed modules';
like $out, qr/^skip systemctl daemon-reload \(--root\)$/m,
    'no daemon-reload under --root';
like $out,
    qr/^Restart Sympa to load the shim: systemctl restart sympa sympasoap wwsympa$/m,
    'enable: the restart command, without the units that follow sympa';
is slurp("$root/etc/systemd/system/wwsympa.service.d/local.conf"),
    "# admin's\n", "the admin's drop-in is left alone";

($rc, $out) = run(@enable);
is $rc, 0, 'enable again: success';
unlike $out, qr/^(create|change) /m, 'enable again: nothing to do';
is_deeply tree(), $after, 'enable again: nothing changed';

# A running sidecar has the jar open.
open my $running, '<', "$root/usr/share/sympa-smime/sympa-smime.jar"
    or die $!;
my $inode = (stat $running)[1];
spurt($jar, "a new jar\n");
($rc, $out) = run(@enable);
like $out, qr/^change \Q$root\E\/usr\/share\/sympa-smime\/sympa-smime\.jar$/m,
    'a new jar: changed';
unlike $out, qr/^create /m, '... nothing else';
is slurp("$root/usr/share/sympa-smime/sympa-smime.jar"), "a new jar\n",
    'a new jar: installed';
is do { local $/; <$running> }, "not really a jar\n",
    'a new jar: what runs keeps reading the old one, not rewritten in place';
isnt((stat "$root/usr/share/sympa-smime/sympa-smime.jar")[1],
    $inode, 'a new jar: a new file');
close $running;
ok !(grep {/sympa-smime-new/} keys %{tree()}), 'no temporary file left';

# A directory removed behind its back is made again.
system 'rm', '-r', "$root/usr/share/sympa-smime/bin";
($rc, $out) = run(@enable);
is $rc, 0, 'a removed directory: success';
ok -x $doctor, 'a removed directory: made again, with the doctor';

# A wrong mode is put right.
chmod 0600, "$root/usr/share/sympa-smime/lib/Sympa/SMIME/Shim.pm";
chmod 0644, $doctor;
chmod 0700, "$root/usr/share/sympa-smime/lib/Sympa";
($rc, $out) = run(@enable);
is_deeply [sort $out =~ /^change \Q$root\E(\/.*)$/mg],
    [
    '/usr/share/sympa-smime/bin/sympa-smime-doctor',
    '/usr/share/sympa-smime/lib/Sympa/',
    '/usr/share/sympa-smime/lib/Sympa/SMIME/Shim.pm'
    ],
    'wrong modes: changed';
is((stat "$root/usr/share/sympa-smime/lib/Sympa")[2] & 07777,
    0755, 'wrong modes: directory 0755 again');
is((stat "$root/usr/share/sympa-smime/lib/Sympa/SMIME/Shim.pm")[2] & 07777,
    0644, 'wrong modes: 0644 again');
is((stat $doctor)[2] & 07777, 0755, 'wrong modes: the doctor 0755 again');

($rc, $out) = run("$bin/sympa-smime-disable", '--root', $root, '--dry-run');
is $rc, 0, 'disable dry run: success';
like $out, qr/^would remove /m, 'disable dry run: tells what it would do';
is scalar(keys %{tree()}), scalar(keys %$after),
    'disable dry run: nothing removed';

($rc, $out) = run("$bin/sympa-smime-disable", '--root', $root);
is $rc, 0, 'disable: success';
is_deeply tree(), $before, 'disable: the tree is as it was before enable';
@printed = sort map {s{/\z}{}r} $out =~ /^remove \Q$root\E(\/.*)$/mg;
is_deeply \@printed, \@created, 'disable prints every file it removes';
like $out,
    qr/^Restart Sympa to stop using the shim: systemctl restart sympa sympasoap wwsympa$/m,
    'disable: the restart command';

($rc, $out) = run("$bin/sympa-smime-disable", '--root', $root);
is $rc, 0, 'disable again: success';
like $out, qr/^Nothing to remove/m, 'disable again: nothing to remove';

# Run from where the Debian package puts it, as its maintainer scripts do:
# the jar, the modules and the commands are dpkg's, so enable copies nothing,
# writes the drop-ins, and lists only those; disable leaves dpkg's files.
# It takes over from an enable run from a source tree before.
{
    my $share = "$root/usr/share/sympa-smime";
    ($rc, $out) = run(@enable);
    is $rc, 0, 'package layout: a source-tree enable first';
    my $enabled = tree();
    # What dpkg unpacks: its own files over the source tree's.
    system('rm', '-r', "$share/bin", "$share/lib", "$share/sympa-smime.jar")
        == 0
        or die;
    make_path("$share/bin");
    system('cp', '-a', 'perl/lib',         "$share/lib") == 0  or die;
    system('cp', '-a', glob('perl/bin/*'), "$share/bin/") == 0 or die;
    system('cp', $jar, "$share/sympa-smime.jar") == 0 or die;
    my $unpacked = tree();

    ($rc, $out) =
        run("$share/bin/sympa-smime-enable", '--root', $root, '--java',
        $java);
    is $rc, 0, 'package layout: enable';
    is_deeply [$out =~ /^(?:create|change) (.*)$/mg],
        ["$root/usr/share/sympa-smime/installed-files"],
        'package layout: copies nothing, the drop-ins are there';
    is_deeply tree(),
        {
        %$unpacked,
        '/usr/share/sympa-smime/installed-files' =>
            tree()->{'/usr/share/sympa-smime/installed-files'}
        },
        'package layout: only the list changed';
    my $manifest = slurp("$share/installed-files");
    unlike $manifest,
        qr{^\S+ /usr/share/sympa-smime/(?:bin|lib|sympa-smime\.jar)}m,
        "package layout: dpkg's files are no longer listed";
    like $manifest,
        qr{^file /etc/systemd/system/sympa\.service\.d/sympa-smime\.conf$}m,
        'package layout: the drop-ins are';

    ($rc, $out) = run("$share/bin/sympa-smime-disable", '--root', $root);
    is $rc, 0, 'package layout: disable';
    is_deeply [
        grep {m{^/etc/systemd/system/.*sympa-smime\.conf$}}
            keys %{tree()}
        ],
        [], 'package layout: drop-ins removed';
    ok -f "$share/sympa-smime.jar"
        && -f "$share/lib/Sympa/SMIME/Shim.pm"
        && -x "$share/bin/sympa-smime-doctor",
        "package layout: dpkg's files kept";
    ok !-e "$share/installed-files", 'package layout: the list removed';
    like $out,
        qr/^Restart Sympa to stop using the shim: systemctl restart sympa sympasoap wwsympa$/m,
        'package layout: disable prints the restart command';

    # While the package is installed, a source tree does not replace its
    # files.
    make_path("$root/var/lib/dpkg/info");
    spurt("$root/var/lib/dpkg/status", <<'EOF');
Package: sympa-smime
Status: install ok installed
Version: 0.1.0
Architecture: all
Maintainer: nobody <nobody@example.org>
Description: test

EOF
    spurt("$root/var/lib/dpkg/info/sympa-smime.list",
        "/usr/share/sympa-smime\n/usr/share/sympa-smime/sympa-smime.jar\n");
    spurt($jar, "a jar from a source tree\n");
    my $installed = tree();
    ($rc, $out) = run(@enable);
    is $rc >> 8, 1, 'over the package: refused';
    like $out,
        qr/^sympa-smime-enable: the sympa-smime package is installed and owns \Q$share\E; this would replace /m,
        'over the package: says why';
    is_deeply tree(), $installed, 'over the package: nothing changed';

    system('rm', '-r', "$root/usr", "$root/var") == 0 or die;
    is_deeply tree(), $before, 'package layout: the tree as it was';
}

# The class-data-sharing archive, made for the installed jar with the
# java the sidecar runs; made again when the JVM refuses it.
SKIP: {
    my $real_jar = abs_path('target/sympa-smime.jar');
    skip 'no built jar or no java', 9
        unless $real_jar
        and -f $real_jar
        and grep { -x "$_/java" } split /:/, $ENV{PATH};
    my $root    = abs_path("$tmp") . "/archive-root";
    my $share   = "$root/usr/share/sympa-smime";
    my $archive = "$share/sympa-smime.jsa";
    make_path("$root/lib/systemd/system");
    my @enable =
        ("$bin/sympa-smime-enable", '--root', $root, '--jar', $real_jar);
    my $usable = sub {
        system(   "java -XX:SharedArchiveFile=$archive -Xshare:on"
                . " -jar $share/sympa-smime.jar version >/dev/null 2>&1") ==
            0;
    };

    ($rc, $out) = run(@enable);
    like $out, qr/^create \Q$archive\E$/m, 'archive: created';
    ok $usable->(), 'archive: the JVM uses it with the installed jar';
    is((stat $archive)[2] & 07777, 0644, 'archive: 0644');
    like slurp("$share/installed-files"),
        qr{^file /usr/share/sympa-smime/sympa-smime\.jsa$}m,
        'archive: in the manifest';

    ($rc, $out) = run(@enable);
    unlike $out, qr/sympa-smime\.jsa/, 'archive: kept while usable';

    spurt($archive, "damaged\n");
    ($rc, $out) = run(@enable);
    like $out, qr/^change \Q$archive\E$/m,
        'archive: a damaged one is made again';
    ok $usable->(), 'archive: usable again';

    ($rc, $out) = run("$bin/sympa-smime-disable", '--root', $root);
    like $out, qr/^remove \Q$archive\E$/m, 'archive: removed by disable';
    ok !-e $share, 'archive: nothing left';
}

# On this machine itself, dry run only: the real units, nothing written.
SKIP: {
    my @real = grep { -f "/lib/systemd/system/$_" } @units;
    skip 'no Debian Sympa units here', 4 unless @real;
    # An e2e run holds it enabled: the drop-ins are there already.
    skip 'sympa-smime is enabled on this machine', 4
        if -e '/usr/share/sympa-smime/installed-files';
    my $existed = -e '/usr/share/sympa-smime';
    ($rc, $out) = run("$bin/sympa-smime-enable", '--dry-run', '--jar', $jar,
        '--java', $java);
    is $rc, 0, 'dry run on /: success';
    # Each unit gets its drop-in, or has it already (an enabled machine).
    my %named =
        map { ($_ => 1) }
        $out =~
        m{^would (?:create|change) /etc/systemd/system/(.*)\.d/sympa-smime\.conf$}mg;
    is_deeply [
        sort grep {
            $named{$_} or -e "/etc/systemd/system/$_.d/sympa-smime.conf"
        } @real
        ],
        [sort @real], 'dry run on /: a drop-in for each Sympa unit';
    like $out,
        qr/^(would run systemctl daemon-reload|skip systemctl daemon-reload \(systemd is not running\))$/m,
        'dry run on /: daemon-reload only where systemd runs';
    is -e '/usr/share/sympa-smime', $existed, 'dry run on /: nothing written';
}

done_testing();
