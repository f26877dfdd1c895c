# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Config;

use strict;
use warnings;
use Carp           qw();
use Cwd            qw();
use English        qw(-no_match_vars);
use Fcntl          qw(O_NOFOLLOW O_NONBLOCK O_RDONLY);
use File::Basename qw();
use File::Spec;
use List::Util qw();

our $VERSION = '0.1.0';

use constant DEFAULT_CONFIG_FILE => '/etc/sympa/sympa-smime.conf';
use constant INSTALLED_JAR       => '/usr/share/sympa-smime/sympa-smime.jar';

# The order matters: it is the order of the documentation and of
# Sympa::SMIME::Sidecar->config->{sources}.
my @KEYS =
    qw(jar java java_opts timeout idle_timeout cipher key_transport crl_path
    crl_required require_authenticated_encryption md5 sha1 dsa min_rsa_bits
    strong_rsa_bits min_ec_bits fallback);

# The algorithm policy of smime.verify and smime.sign.  Unset, the sidecar's
# defaults apply: they are written once, in the sidecar (AlgorithmPolicy).
my @ALGORITHM_POLICY = qw(md5 sha1 dsa min_rsa_bits strong_rsa_bits
    min_ec_bits);

my %ENV_NAME = map { $_ => 'SYMPA_SMIME_' . uc $_ } @KEYS;

# The process's own settings, as they were when this module was loaded (the
# shim loads it when the program starts). In a CGI request %ENV is the
# request's: FastCGI's Accept (wwsympa.fcgi) empties it and fills it with
# what the web server sends, so the environment the unit's drop-in gave the
# program is gone there, and what the web server sets must choose no java.
my %PROCESS_ENV =
    map { defined $ENV{$_} ? ($_ => $ENV{$_}) : () } 'SYMPA_SMIME_CONFIG',
    values %ENV_NAME;

sub _env {
    my $name = shift;
    return
        defined $ENV{GATEWAY_INTERFACE} ? $PROCESS_ENV{$name} : $ENV{$name};
}

# Every Sympa process that does S/MIME has its own sidecar, so the JVM is kept
# small; each option was chosen by measurement (bench/jvm-options.pl,
# docs/performance.md#jvm-options):
# - a heap capped at 512 MiB, room for a message of about 45 MB (nine times
#   Sympa's default max_size), and started at 16 MiB: without -Xms the JVM
#   takes 1/64 of the host's memory at once and the young generation fills
#   all of it before a first collection (212 against 110 MiB resident after
#   1,000 calls on a 24 GB host);
# - the serial collector: one core's worth of work, no collector threads;
# - the full JIT (C1 then C2): C1 alone starts in 40 % less CPU and keeps
#   25 MiB less, but each warm call then costs twice the CPU;
# - caps on what may grow (code cache, metaspace: 13 and 16 MiB are used)
#   and on compiler threads, which large hosts would otherwise multiply.
# The client adds the options that must always be there (Sidecar.pm,
# JVM_OPTIONS: -XX:+ExitOnOutOfMemoryError and where the JVM writes) and the
# class-data-sharing archive.
my %DEFAULT = (
    java      => 'java',
    java_opts => '-Xmx512m -Xms16m -XX:+UseSerialGC'
        . ' -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=128m'
        . ' -XX:CICompilerCount=2',
    timeout => 60,

    # Seconds without a request after which a sidecar exits (0: never): a
    # web child that has not done S/MIME for that long gives its memory back,
    # and pays a JVM start (about half a second) on its next S/MIME call.
    idle_timeout  => 300,
    cipher        => 'aes-128-cbc',
    key_transport => 'rsa-pkcs1',
    crl_path      => undef,
    crl_required  => 0,

    # Off: mail encrypted with CBC and not signed is what most clients send.
    require_authenticated_encryption => 0,

    # What a daemon does when the sidecar cannot run (fallback()).
    fallback => 'auto',
);

# Yes/no settings.
my %BOOLEAN =
    map { $_ => 1 } qw(crl_required require_authenticated_encryption);

# What the sidecar implements (docs/protocol.md).  A value outside these is
# still passed on, so that the sidecar refuses it loudly instead of us
# silently picking something else, but the administrator is told early.
my %KNOWN = (
    cipher => {
        map { $_ => 1 }
            qw(aes-128-cbc aes-192-cbc aes-256-cbc aes-128-gcm aes-256-gcm)
    },
    key_transport => {map { $_ => 1 } qw(rsa-pkcs1 rsa-oaep rsa-oaep-sha256)},
    (   map {
            $_ => {map { $_ => 1 } qw(refuse warn accept)}
        } qw(md5 sha1 dsa)
    ),
);

# Sympa daemons read the settings on every call; warn about a given problem
# once per process, not once per message.
my %warned;

# The problems of the settings being built, every time: the log has each
# once per process, and only where Sympa's log is read, but
# sympa-smime-doctor shows them all.
our $problems;    # "our" for local()

my $cache_key;
my $cached;

sub keys_in_order { return @KEYS }

# The algorithm_policy parameter of smime.verify and smime.sign: the settings
# given, numbers as numbers; empty when none is.  A value the sidecar does not
# accept makes it refuse the request, so a typo cannot weaken the policy.
sub algorithm_policy {
    my $class = shift;
    my $conf  = shift;

    my %policy;
    foreach my $key (@ALGORITHM_POLICY) {
        my $value = $conf->{$key};
        next unless defined $value and length $value;
        $value =~ s/\A\s+|\s+\z//g;
        $policy{$key} = ($value =~ /\A\d+\z/) ? 0 + $value : $value;
    }
    return %policy ? (algorithm_policy => \%policy) : ();
}

# The crls and crl_required parameters of smime.verify and x509.check, from
# the settings crl_path and crl_required; none when crl_path is unset.
sub revocation {
    my $class = shift;
    my $conf  = shift;

    return ()
        unless defined $conf->{crl_path} and length $conf->{crl_path};
    return (
        crls => $conf->{crl_path},
        ($conf->{crl_required} ? (crl_required => \1) : ())
    );
}

sub env_name { return $ENV_NAME{$_[1]} }

# The named settings of Sympa (cafile, capath, key_passwd, ...) as the
# sidecar's parameters: only those set and not empty, since Sympa gives an
# unset one as ''.  One rule for the shim and the admin commands, so that
# the doctor checks with exactly what Sympa will send.
sub sympa_params {
    my $class = shift;
    my @names = @_;

    no warnings 'once';
    return map { ($_ => $Conf::Conf{$_}) }
        grep { defined $Conf::Conf{$_} and length $Conf::Conf{$_} } @names;
}

# Whether a Sympa process whose sidecar cannot run may do S/MIME with
# Sympa's own functions (Crypt::SMIME): undef when it may, else why not.
# "auto" falls back unless a setting asks for a check only the sidecar
# makes, which Crypt::SMIME would silently drop, or the settings cannot be
# trusted, so that what they ask for is not known.
sub fallback {
    my $class = shift;
    my $conf  = shift;

    return 'fallback = no'                  if $conf->{fallback} eq 'no';
    return undef                            if $conf->{fallback} eq 'yes';
    return 'the settings cannot be trusted' if defined $conf->{error};
    return 'crl_path is set, which Crypt::SMIME does not check'
        if defined $conf->{crl_path} and length $conf->{crl_path};
    return
        'require_authenticated_encryption is set, which Crypt::SMIME does not check'
        if $conf->{require_authenticated_encryption};
    return undef;
}

# The jar that comes with this checkout: .../perl/lib/Sympa/SMIME/Config.pm
# lives four levels below the repository root.
sub repo_jar {
    my $module = Cwd::abs_path(__FILE__);
    return undef unless defined $module;
    my $dir = File::Basename::dirname($module);
    return File::Spec->catfile($dir, (File::Spec->updir) x 4,
        'target', 'sympa-smime.jar');
}

sub default_jar {
    my @candidates = grep {defined} (repo_jar(), INSTALLED_JAR);
    foreach my $jar (@candidates) {
        return _clean_path($jar) if -f $jar;
    }

    # Nothing installed: name the path a package would install, so that the
    # "jar not found" message points to something an administrator knows.
    return INSTALLED_JAR;
}

sub config_file {
    my $file = _env('SYMPA_SMIME_CONFIG');
    return (defined $file and length $file) ? $file : DEFAULT_CONFIG_FILE;
}

sub load {
    my $class = shift;

    my $file = config_file();

    # The settings are read on every call (the shim asks for the cipher on
    # each encryption), so keep the parsed file while neither the
    # environment, the file (its content, owner or mode) nor any directory
    # above it changes: a chmod or chown anywhere on the path is seen at
    # once.  Who we are counts too: a file of the sympa user is trusted by
    # the sympa user, not by root, and sympa-smime-doctor switches.
    my @stat = lstat $file;
    my (undef, undef, @dirs) = _walk(_parent($file));
    my $key = join "\0", $file, $EFFECTIVE_USER_ID,
        (@stat ? @stat[0, 1, 2, 4, 7, 9, 10] : ('-')),
        @dirs, map { defined _env($_) ? '=' . _env($_) : '-' }
        map { $ENV_NAME{$_} } @KEYS;
    unless (defined $cache_key and $cache_key eq $key) {
        $cached    = _build($file);
        $cache_key = $key;
    }
    return {
        %$cached,
        sources  => {%{$cached->{sources}}},
        problems => [@{$cached->{problems}}]
    };
}

sub _build {
    my $file = shift;

    local $problems = [];
    my %conf = (config_file => $file, problems => $problems);
    my ($fh, $unsafe) = _open_trusted($file);
    my $from_file = {};
    if ($unsafe) {

        # Its settings could be anybody's: not used, and no sidecar runs.
        $conf{error} =
              "$file $unsafe: whoever can change it chooses the java run as "
            . 'this user, so it is not used and no sidecar starts';
        _warn_once("unsafe:$file:$unsafe", 'sympa-smime: %s', $conf{error});
    } elsif ($fh) {
        $from_file = _read_file($file, $fh);
    }
    my %sources;
    foreach my $key (@KEYS) {
        my $env = _env($ENV_NAME{$key});
        if (defined $env and length $env) {
            ($conf{$key}, $sources{$key}) = ($env, 'env');
        } elsif (defined $from_file->{$key}) {
            ($conf{$key}, $sources{$key}) = ($from_file->{$key}, 'file');
        } else {
            ($conf{$key}, $sources{$key}) = (
                ($key eq 'jar' ? default_jar() : $DEFAULT{$key}), 'default'
            );
        }
    }
    $conf{sources} = \%sources;

    unless ($conf{timeout} =~ /\A\s*(\d+(?:\.\d*)?|\.\d+)\s*\z/ and $1 > 0) {
        _warn_once(
            "timeout:$conf{timeout}",
            'sympa-smime: timeout "%s" (%s) is not a positive number of seconds; using %s',
            $conf{timeout},
            $sources{timeout},
            $DEFAULT{timeout}
        );
        $conf{timeout}    = $DEFAULT{timeout};
        $sources{timeout} = 'default';
    }
    $conf{timeout} += 0;

    unless ($conf{idle_timeout} =~ /\A\s*(\d+)\s*\z/) {
        _warn_once(
            "idle_timeout:$conf{idle_timeout}",
            'sympa-smime: idle_timeout "%s" (%s) is not a whole number of seconds; using %s',
            $conf{idle_timeout},
            $sources{idle_timeout},
            $DEFAULT{idle_timeout}
        );
        $conf{idle_timeout}    = $DEFAULT{idle_timeout};
        $sources{idle_timeout} = 'default';
    }
    $conf{idle_timeout} += 0;

    foreach my $key (qw(cipher key_transport md5 sha1 dsa)) {
        next unless defined $conf{$key};
        $conf{$key} = lc $conf{$key};
        next if $KNOWN{$key}{$conf{$key}};
        _warn_once(
            "$key:$conf{$key}",
            'sympa-smime: %s "%s" (%s) is not one the sidecar knows (%s); it will refuse the requests that need it',
            $key,
            $conf{$key},
            $sources{$key},
            join(', ', sort keys %{$KNOWN{$key}})
        );
    }

    # Security switches: a value we cannot read is taken as the safer one.
    foreach my $key (grep { $BOOLEAN{$_} } @KEYS) {
        my $value = $conf{$key};
        if ($value =~ /\A\s*(?:1|yes|true|on)\s*\z/i) {
            $conf{$key} = 1;
        } elsif ($value =~ /\A\s*(?:0|no|false|off)\s*\z/i) {
            $conf{$key} = 0;
        } else {
            _warn_once(
                "$key:$value",
                'sympa-smime: %s "%s" (%s) is neither yes nor no; taken as yes',
                $key,
                $value,
                $sources{$key}
            );
            $conf{$key} = 1;
        }
    }
    # Falling back gives up what only the sidecar checks: a value we cannot
    # read fails closed.
    my $fallback = lc($conf{fallback} =~ s/\A\s+|\s+\z//gr);
    $fallback = 'yes' if $fallback =~ /\A(?:1|true|on)\z/;
    $fallback = 'no'  if $fallback =~ /\A(?:0|false|off)\z/;
    unless ($fallback =~ /\A(?:auto|yes|no)\z/) {
        _warn_once(
            "fallback:$conf{fallback}",
            'sympa-smime: fallback "%s" (%s) is not auto, yes or no; taken as no',
            $conf{fallback},
            $sources{fallback}
        );
        $fallback = 'no';
    }
    $conf{fallback} = $fallback;

    _warn_once('crl_required:alone',
        'sympa-smime: crl_required is set but crl_path is not; no revocation checking'
    ) if $conf{crl_required} and not defined $conf{crl_path};

    return \%conf;
}

# Opens the file for reading if it can be trusted.  Whoever can write it, or
# replace it, chooses the java the sidecar runs as the user of Sympa, and a
# root process (sympa-smime-doctor --keep-user) must not run the sympa
# user's choice.  Trusted: not a symbolic link; a regular file owned by
# root or by this user and writable by nobody else (no group or other write
# bit); every directory above it, up to /, likewise.  A sticky directory
# others can write to (/tmp) is refused too: anyone may create the name
# there before us, and "only root or we can change it" is a rule one can
# check.  The file is opened once, then the handle is checked, so what is
# read is what was checked.
# Returns ($fh) to read, () when there is nothing to read (missing, not a
# regular file such as /dev/null), or (undef, why) when it is not trusted.
sub _open_trusted {
    my $file = shift;

    my $fh;
    unless (sysopen $fh, $file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
        my $errno = "$ERRNO";
        return (undef, 'is a symbolic link') if -l $file;

        # The default file is optional; one named explicitly is not.
        _warn_once("open:$file", 'sympa-smime: cannot read %s: %s',
            $file, $errno)
            if defined _env('SYMPA_SMIME_CONFIG')
            and length _env('SYMPA_SMIME_CONFIG');
        return;
    }
    my @stat = stat $fh;
    return unless @stat and -f _;
    if (my $why = _unsafe_owner_or_mode(@stat)) {
        return (undef, "is $why");
    }
    my ($why, $dir) = _walk(_parent($file));
    return (undef, $why) if $why;

    # Only root or we can change these directories, so the name in the last
    # one stays what it is now: it must be the file we opened, else the path
    # changed between the open and the checks.
    my $base  = File::Basename::basename($file);
    my @there = lstat "$dir/$base";
    return (undef, 'was replaced while it was checked')
        unless @there
        and $there[0] == $stat[0]
        and $there[1] == $stat[1];
    return ($fh);
}

# Why a file or directory with this stat cannot be trusted, or nothing.
sub _unsafe_owner_or_mode {
    my @stat = @_;
    my ($mode, $uid) = @stat[2, 4];
    return sprintf 'owned by uid %d, neither root nor this user (%d)',
        $uid, $EFFECTIVE_USER_ID
        unless $uid == 0 or $uid == $EFFECTIVE_USER_ID;
    return sprintf 'writable by everyone (mode %04o)', $mode & 07777
        if $mode & 0002;
    return sprintf 'writable by its group (mode %04o)', $mode & 07777
        if $mode & 0020;
    return undef;
}

sub _parent {
    my $file = shift;
    return File::Basename::dirname(File::Spec->rel2abs($file));
}

# Walks from / to the absolute directory $dir, following symbolic links as
# the kernel does, and checks every directory it goes through: a link is
# only as safe as the directory it is in.  Returns (why, dir, @signature):
# why the path cannot be trusted (or undef), the directory reached without
# symbolic links, and what load() keys its cache on.
sub _walk {
    my $dir = shift;

    my @todo    = split m{/}, $dir;
    my $current = '/';
    my @signature;
    my $links = 0;
    my $check = sub {
        my $path = shift;
        my @stat = lstat $path;
        push @signature, $path, (@stat ? @stat[1, 2, 4] : '-');
        return "cannot be checked: $path: $!" unless @stat;
        return undef if -l _;
        return "is in $path, which is not a directory" unless -d _;
        my $why = _unsafe_owner_or_mode(@stat);
        return $why ? "is in $path, which is $why" : undef;
    };
    if (my $why = $check->('/')) {
        return ($why, $current, @signature);
    }
    while (@todo) {
        my $name = shift @todo;
        next if $name eq '' or $name eq '.';
        if ($name eq '..') {
            $current = File::Basename::dirname($current);
            next;
        }
        my $path = $current eq '/' ? "/$name" : "$current/$name";
        if (my $why = $check->($path)) {
            return ($why, $current, @signature);
        }
        if (-l $path) {
            return ("is in $path, with too many symbolic links",
                $current, @signature)
                if ++$links > 40;
            my $target = readlink $path;
            return ("cannot be checked: $path: $!", $current, @signature)
                unless defined $target;
            $current = '/' if $target =~ m{\A/};
            unshift @todo, split m{/}, $target;
            next;
        }
        $current = $path;
    }
    return (undef, $current, @signature);
}

sub _read_file {
    my ($file, $fh) = @_;

    my %values;
    my %known = map { $_ => 1 } @KEYS;
    while (my $line = <$fh>) {
        $line =~ s/\r?\n\z//;

        # Editors on other systems may start the file with a UTF-8 BOM.
        $line =~ s/\A\xEF\xBB\xBF// if $. == 1;
        next if $line =~ /\A\s*(?:#|\z)/;
        unless ($line =~ /\A\s*([A-Za-z_][\w.-]*)\s*=\s*(.*?)\s*\z/) {
            _warn_once("syntax:$file:$.",
                'sympa-smime: %s line %d is not "key = value"; ignored',
                $file, $.);
            next;
        }
        my ($key, $value) = (lc $1, $2);
        unless ($known{$key}) {
            my $meant = _closest($key);
            _warn_once(
                "key:$file:$key",
                'sympa-smime: unknown setting "%s" in %s; ignored (%s)',
                $key, $file,
                (   defined $meant
                    ? qq{did you mean "$meant"?}
                    : 'known: ' . join(', ', @KEYS)
                )
            );
            next;
        }
        $values{$key} = $value if length $value;
    }
    close $fh;
    return \%values;
}

# The setting a misspelt name was most likely meant to be: the known one
# at the fewest edits (insert, delete or change a letter), two at most.
sub _closest {
    my $word = shift;
    my ($best, $fewest) = (undef, 3);
    foreach my $key (@KEYS) {
        my $edits = _edits($word, $key);
        ($best, $fewest) = ($key, $edits) if $edits < $fewest;
    }
    return $best;
}

# Levenshtein distance.
sub _edits {
    my ($from, $to) = @_;
    my @previous = (0 .. length $to);
    foreach my $i (1 .. length $from) {
        my @current = ($i);
        foreach my $j (1 .. length $to) {
            my $change =
                substr($from, $i - 1, 1) eq substr($to, $j - 1, 1) ? 0 : 1;
            push @current,
                List::Util::min(
                $previous[$j] + 1,
                $current[$j - 1] + 1,
                $previous[$j - 1] + $change
                );
        }
        @previous = @current;
    }
    return $previous[-1];
}

sub _clean_path {
    my $path = shift;
    my $abs  = Cwd::abs_path($path);
    return defined $abs ? $abs : $path;
}

sub _warn_once {
    my ($id, $format, @args) = @_;
    if ($problems) {
        (my $problem = sprintf $format, @args) =~ s/\Asympa-smime: //;
        push @$problems, $problem;
    }
    return if $warned{$id}++;
    log_message('err', $format, @args);
}

# Sympa's log when running inside Sympa, stderr otherwise.  Shared with
# Sympa::SMIME::Sidecar so that both end up in the same place.
sub log_message {
    my ($level, $format, @args) = @_;

    if (Sympa::Log->can('instance')) {
        Sympa::Log->instance->syslog($level, $format, @args);
    } else {
        my $message = sprintf $format, @args;
        warn "$message\n";
    }
    return;
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Config - Settings of the sympa-smime sidecar

=head1 SYNOPSIS

  use Sympa::SMIME::Config;
  my $conf = Sympa::SMIME::Config->load;
  printf "%s -jar %s (timeout %s s)\n", @{$conf}{qw(java jar timeout)};

=head1 DESCRIPTION

Reads the settings of the sympa-smime sidecar from the environment, then from
a configuration file, then falls back to defaults.  Each setting is taken
from the first of these that sets it.  See F<docs/configuration.md> for the
meaning of each setting.

=head1 FUNCTIONS

=over

=item load ( )

Class method.  Returns a new hashref with the keys C<jar>, C<java>,
C<java_opts>, C<timeout>, C<idle_timeout> (whole seconds, 0: never),
C<cipher>, C<key_transport>, C<crl_path> (undef
when unset), C<crl_required> and C<require_authenticated_encryption> (0 or
1), C<fallback> (C<auto>, C<yes> or C<no>), C<config_file> (the file that was looked at), C<sources> (a hashref
telling, for each setting, C<env>, C<file> or C<default>) and, when the file
cannot be trusted, C<error> (why; L<Sympa::SMIME::Sidecar> then starts no
sidecar).

The file is trusted when it is not a symbolic link, is owned by root or by
the effective user and writable by no one else (no group or other write
bit), and every directory above it, up to F</>, is the same (a sticky
directory others can write to, as F</tmp>, is not): whoever can change or
replace it chooses the program run as Sympa's user, or as root for a root
process that loads the shim.  It is opened once, without following a
symbolic link, and the open handle is checked.  An untrusted file is not
read at all.

The result is cached while neither the environment variables, the effective
user, the file (inode, size, modification and change times, owner, mode)
nor any directory on the way to it (inode, owner, mode) change, so calling
it for every message is cheap and a C<chmod> or C<chown> is seen at once.

Problems (an untrusted file, unknown key, bad line, timeout that is not a
positive number, idle_timeout that is not a whole number, unknown cipher, C<crl_required> or
C<require_authenticated_encryption> that is neither yes nor no,
C<crl_required> set without C<crl_path>) are logged once per process: through
C<Sympa::Log-E<gt>instance-E<gt>syslog> when L<Sympa::Log> is loaded, with
C<warn> otherwise.  Every result also lists them all in C<problems> (an
arrayref of lines, empty when there is none), for F<sympa-smime-doctor>.

=item fallback ( $conf )

Class method.  Whether a process whose sidecar cannot run may use Sympa's own
S/MIME functions, for the settings C<$conf> (as L</load> returns them):
undef when it may, else why not (C<fallback = no>; with C<fallback = auto>,
the default: C<crl_path> or C<require_authenticated_encryption> set, which
Crypt::SMIME does not check, or an untrusted configuration file).
C<fallback> is C<auto>, C<yes> or C<no> (also C<1>/C<0>, C<true>/C<false>,
C<on>/C<off>); any other value is reported once and taken as C<no>.

=item config_file ( )

The configuration file: C<$ENV{SYMPA_SMIME_CONFIG}> or
F</etc/sympa/sympa-smime.conf>.

In a CGI or FastCGI request (C<GATEWAY_INTERFACE> set), C<SYMPA_SMIME_CONFIG>
and the C<SYMPA_SMIME_*> settings are those the process had when this module
was loaded, not the request's: FastCGI replaces C<%ENV> with what the web
server sends for each request, which would lose the environment that the
unit's drop-in gave C<wwsympa.fcgi>.  L<Sympa::SMIME::Shim> loads this module
when the program starts.

=item default_jar ( )

The first existing of F<target/sympa-smime.jar> in the repository this
module lives in, and F</usr/share/sympa-smime/sympa-smime.jar>; the latter
when none exists.

=item repo_jar ( )

F<target/sympa-smime.jar> four directories above this module (the root of
a source tree), whether it exists or not; undef when the module's path
cannot be resolved.

=item keys_in_order ( ), env_name ( $key )

The setting names, and the environment variable of one of them.

=item sympa_params ( @names )

Sympa's settings C<@names> (from C<%Conf::Conf>) as name-value pairs for
the sidecar's parameters, leaving out those unset or empty.

=item algorithm_policy ( \%config ), revocation ( \%config )

The C<algorithm_policy>, and the C<crls> and C<crl_required>, parameters of
C<smime.verify> and C<x509.check> for a configuration returned by
L</load>: the settings given, none when unset.

=item log_message ( $level, $format, @args )

Logs one line in Sympa's log if L<Sympa::Log> is loaded, else with C<warn>.

=back

=head1 CONFIGURATION

  # /etc/sympa/sympa-smime.conf
  jar           = /usr/share/sympa-smime/sympa-smime.jar
  java          = /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  java_opts     = -Xmx256m -XX:+UseSerialGC
  timeout       = 60
  idle_timeout  = 300
  cipher        = aes-128-cbc
  key_transport = rsa-pkcs1
  crl_path      = /etc/sympa/crls
  crl_required  = no
  require_authenticated_encryption = no
  fallback      = auto

Lines are C<key = value>; lines starting with C<#> and blank lines are
ignored, and so is a UTF-8 byte order mark.  Environment variables
C<SYMPA_SMIME_JAR>, C<SYMPA_SMIME_JAVA>, C<SYMPA_SMIME_JAVA_OPTS>,
C<SYMPA_SMIME_TIMEOUT>, C<SYMPA_SMIME_IDLE_TIMEOUT>, C<SYMPA_SMIME_CIPHER>, C<SYMPA_SMIME_KEY_TRANSPORT>,
C<SYMPA_SMIME_CRL_PATH>, C<SYMPA_SMIME_CRL_REQUIRED>,
C<SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION> and C<SYMPA_SMIME_FALLBACK>
take precedence over the file.

=head1 SEE ALSO

L<Sympa::SMIME::Sidecar>

=cut
