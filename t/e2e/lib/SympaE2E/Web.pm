package SympaE2E::Web;

# Debian's web stack for Sympa, run privately for the e2e suite.
#
# Debian runs wwsympa.fcgi from wwsympa.service: multiwatch forks the
# FastCGI children as the sympa user on the socket systemd hands it
# (wwsympa.socket, /run/sympa/wwsympa.socket, owned by www-data, mode 0660),
# and /etc/apache2/conf-available/sympa.conf sends /wws there with
# mod_proxy_fcgi. This does the same with nothing of the machine's: each
# backend is multiwatch on a socket of the state directory, with the
# environment the unit's drop-ins would give it, and one Apache (the
# apache2 binary alone, its own configuration file, ports on 127.0.0.1,
# mod_ssl with a throwaway server certificate and a CA for client
# certificates) serves one HTTPS port per backend. Everything runs in
# sessions of its own under "timeout" and is killed, children included, by
# stop.

use strict;
use warnings;
use Carp qw(croak);
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX       qw();
use Socket      qw(SOCK_STREAM);
use Time::HiRes qw(time);

use SympaE2E::Util
    qw(try_cmd write_file read_file wait_until processes_in_sessions);

our $APACHE     = '/usr/sbin/apache2';
our $MODULES    = '/usr/lib/apache2/modules';
our $WWSYMPA    = '/usr/lib/cgi-bin/sympa/wwsympa.fcgi';
our $MULTIWATCH = '/usr/bin/multiwatch';
my @MODULES = qw(mpm_event authz_core ssl proxy proxy_fcgi);

# What the web path needs that may be missing: empty when all is there.
sub missing {
    my @missing;
    push @missing, 'apache2 (apache2-bin)' unless -x $APACHE;
    push @missing, "mod_$_ (apache2-bin)"
        for grep { !-f "$MODULES/mod_$_.so" } @MODULES;
    push @missing, 'multiwatch'           unless -x $MULTIWATCH;
    push @missing, 'wwsympa.fcgi (sympa)' unless -x $WWSYMPA;
    push @missing, 'curl'
        unless grep { -x "$_/curl" } split /:/, $ENV{PATH} // '';
    return @missing;
}

# sympa      => the SympaE2E::Sympa instance the children serve
# dir        => where the configuration, sockets and logs go
# host       => the web host name (wwsympa_url's)
# cert, key  => the server's certificate chain and key (PEM files)
# client_ca  => the CAs client certificates are checked against
# cafile     => what curl trusts for the server
# time_limit => seconds after which everything is killed in any case
sub new {
    my ($class, %opt) = @_;
    for (qw(sympa dir host cert key client_ca cafile)) {
        croak "$_ required" unless $opt{$_};
    }
    mkdir $opt{dir}, 0755 unless -d $opt{dir};
    mkdir "$opt{dir}/$_", 0755
        for grep { !-d "$opt{dir}/$_" } qw(run log htdocs);
    my @www = getpwnam('www-data') or croak 'no "www-data" user';
    return bless {
        %opt,
        time_limit => $opt{time_limit} || 300,
        www        => [@www[2, 3]],
        backends   => {},
        order      => [],
        apache     => undef,
        sessions   => [],
    } => $class;
}

sub dir         { $_[0]{dir} }
sub error_log   {"$_[0]{dir}/log/apache-error.log"}
sub access_log  {"$_[0]{dir}/log/apache-access.log"}
sub backend_log {"$_[0]{dir}/log/wwsympa-$_[1].log"}

# Starts a backend: multiwatch forking $opt{children} wwsympa.fcgi
# children as sympa, on a socket made as wwsympa.socket makes its own, with
# Sympa's environment plus %{$opt{env}}.
sub add_backend {
    my ($self, $name, %opt) = @_;
    croak "backend $name exists" if $self->{backends}{$name};
    my $path = "$self->{dir}/run/wwsympa-$name.socket";
    unlink $path;
    my $socket = IO::Socket::UNIX->new(
        Type   => SOCK_STREAM,
        Local  => $path,
        Listen => 64,
    ) or croak "$path: $!";
    chown @{$self->{www}}, $path or croak "chown $path: $!";
    chmod 0660, $path or croak "chmod $path: $!";

    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        POSIX::setsid();
        # FastCGI takes its listening socket on descriptor 0.
        POSIX::dup2(fileno $socket, 0) // POSIX::_exit(127);
        open STDOUT, '>',  '/dev/null';
        open STDERR, '>>', $self->backend_log($name) or POSIX::_exit(127);
        {
            # SympaE2E::Sympa's command prefix: as sympa, with Sympa's
            # environment and nothing else of ours.
            exec $self->{sympa}->_as_sympa(%{$opt{env} || {}}), 'timeout',
                '--kill-after=5', $self->{time_limit}, $MULTIWATCH, '-f',
                $opt{children} || 2, '--', $WWSYMPA;
        }
        POSIX::_exit(127);
    }
    close $socket;
    push @{$self->{sessions}}, $pid;
    $self->{backends}{$name} =
        {pid => $pid, socket => $path, children => $opt{children} || 2};
    push @{$self->{order}}, $name;
    # wwsympa.fcgi takes seconds to compile; a busy machine, many more.
    my $ready = wait_until(
        90,
        sub {
            my @children = $self->fcgi_children($name);
            @children >= $self->{backends}{$name}{children};
        }
    );
    croak "backend $name: its wwsympa.fcgi children did not start\n"
        . $self->log_tail($self->backend_log($name), 20)
        unless $ready;
    return $self;
}

# Starts Apache with one HTTPS port per backend.
sub start {
    my $self = shift;
    croak 'Apache runs already' if $self->{apache};
    my $dir = $self->{dir};
    for my $name (@{$self->{order}}) {
        $self->{backends}{$name}{port} = _free_port();
    }
    my $conf = write_file("$dir/apache2.conf", $self->_config, 0644);
    my ($rc, $out, $err) = try_cmd([$APACHE, '-t', '-f', $conf]);
    croak "apache2 -t -f $conf: $out$err" if $rc;

    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/log/apache-stderr.log"
            or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        {
            exec 'timeout', '--kill-after=5', $self->{time_limit}, $APACHE,
                '-f', $conf, '-DFOREGROUND';
        }
        POSIX::_exit(127);
    }
    $self->{apache} = $pid;
    push @{$self->{sessions}}, $pid;
    my $ready = wait_until(
        30,
        sub {
            return 1 unless $self->apache_alive;
            !grep {
                !IO::Socket::INET->new(
                    PeerAddr => '127.0.0.1',
                    PeerPort => $self->{backends}{$_}{port},
                    Timeout  => 1
                )
            } @{$self->{order}};
        }
    );
    croak "Apache did not start:\n"
        . $self->log_tail("$dir/log/apache-stderr.log", 10)
        . $self->log_tail($self->error_log,             20)
        unless $ready and $self->apache_alive;
    return $self;
}

sub apache_alive {
    my $self = shift;
    my $pid  = $self->{apache} or return 0;
    return kill(0, $pid) && waitpid($pid, POSIX::WNOHANG()) == 0;
}

sub _free_port {
    my $socket = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
    ) or croak "no free port: $!";
    return $socket->sockport;
}

# The configuration: Debian's conf-available/sympa.conf for /wws, behind
# mod_ssl asking for a client certificate and handing it to the children
# the way wwsympa reads it (SSL_CLIENT_VERIFY, SSL_CLIENT_CERT).
sub _config {
    my $self = shift;
    my $dir  = $self->{dir};
    my ($user, $group) =
        ((getpwuid $self->{www}[0])[0], (getgrgid $self->{www}[1])[0]);
    my $conf = <<"EOF";
# Written by the sympa-smime end-to-end suite (t/e2e/lib/SympaE2E/Web.pm).
ServerRoot $dir
PidFile $dir/run/apache2.pid
DefaultRuntimeDir $dir/run
Mutex file:$dir/run default
User $user
Group $group
ServerName $self->{host}
# An empty directory: Apache splits /wws/... into SCRIPT_NAME and PATH_INFO
# by walking the document root, and wwsympa finds its URL in their sum.
DocumentRoot $dir/htdocs
ErrorLog $dir/log/apache-error.log
LogLevel info
LogFormat "%h %{SSL_CLIENT_S_DN}x \\"%r\\" %>s %b %D" e2e
CustomLog $dir/log/apache-access.log e2e
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
EOF
    $conf .= "LoadModule ${_}_module $MODULES/mod_$_.so\n" for @MODULES;
    $conf .= <<"EOF";
SSLSessionCache none
SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1
EOF
    for my $name (@{$self->{order}}) {
        my $backend = $self->{backends}{$name};
        $conf .= <<"EOF";

# backend "$name"
Listen 127.0.0.1:$backend->{port}
<VirtualHost 127.0.0.1:$backend->{port}>
    ServerName $self->{host}
    SSLEngine on
    SSLCertificateFile $self->{cert}
    SSLCertificateKeyFile $self->{key}
    SSLCACertificateFile $self->{client_ca}
    SSLVerifyClient optional
    SSLVerifyDepth 3
    <Location /wws>
        SSLOptions +StdEnvVars +ExportCertData
        SetHandler "proxy:unix:$backend->{socket}|fcgi://localhost"
        Require all granted
    </Location>
</VirtualHost>
EOF
    }
    return $conf;
}

# One HTTPS request with curl to a backend. %opt: cert, key (a client
# certificate). Returns {status, content_type, body, error}.
sub get {
    my ($self, $backend, $path, %opt) = @_;
    my $port = $self->{backends}{$backend}{port}
        or croak "no backend $backend";
    my $body = "$self->{dir}/run/body";
    unlink $body;
    my @cmd = (
        'curl',
        '--silent',
        '--show-error',
        '--max-time',
        '90',
        '--cacert',
        $self->{cafile},
        '--resolve',
        "$self->{host}:$port:127.0.0.1",
        '--output',
        $body,
        '--write-out',
        '%{http_code} %{content_type}',
        ($opt{cert} ? ('--cert', $opt{cert}, '--key', $opt{key}) : ()),
        "https://$self->{host}:$port$path"
    );
    my ($rc, $out, $err) = try_cmd(\@cmd);
    my ($status, $type) = split / /, $out, 2;
    return {
        status       => $status // 0,
        content_type => $type   // '',
        body         => -f $body ? read_file($body)             : '',
        error        => $rc      ? "curl exited with $rc: $err" : '',
    };
}

# The backend's processes: pid => [ppid, command name].
sub processes {
    my ($self, $backend) = @_;
    my $b = $self->{backends}{$backend} or croak "no backend $backend";
    return processes_in_sessions($b->{pid});
}

# PIDs of the backend's FastCGI children.
sub fcgi_children {
    my ($self, $backend) = @_;
    my $procs = $self->processes($backend);
    my @pids  = sort { $a <=> $b }
        grep { $procs->{$_}[1] =~ /^wwsympa/ } keys %$procs;
    return @pids;    # in scalar context, how many
}

# The java processes whose parent is one of the backend's FastCGI
# children: their sidecars. An exited one not reaped yet (a zombie) holds
# no memory and does not count; with $zombies, only those are listed.
sub sidecars {
    my ($self, $backend, $zombies) = @_;
    my $procs = $self->processes($backend);
    my %fcgi  = map  { $_ => 1 } $self->fcgi_children($backend);
    my @pids  = sort { $a <=> $b } grep {
               $procs->{$_}[1] eq 'java'
            && $fcgi{$procs->{$_}[0]}
            && ($zombies xor $procs->{$_}[2] ne 'Z')
    } keys %$procs;
    return @pids;    # in scalar context, how many
}

# Every process started here, since new, that still exists.
sub all_processes {
    my $self = shift;
    return processes_in_sessions(@{$self->{sessions}});
}

# Stops Apache and the backends: SIGTERM to their sessions, then SIGKILL
# to whatever is left (sidecars included).
sub stop {
    my $self = shift;
    my @sids = grep {defined} $self->{apache},
        map { $_->{pid} } values %{$self->{backends}};
    return unless @sids;
    kill 'TERM', map { -$_ } @sids;
    wait_until(15, sub { !%{processes_in_sessions(@sids)} });
    my $left = processes_in_sessions(@sids);
    kill 'KILL', keys %$left if %$left;
    kill 'KILL', map { -$_ } @sids;
    waitpid $_, 0 for @sids;
    wait_until(5, sub { !%{processes_in_sessions(@sids)} });
    $self->{apache} = undef;
    unlink $_->{socket} for values %{$self->{backends}};
    $self->{backends} = {};
    $self->{order}    = [];
    return;
}

sub log_tail {
    my ($self, $file, $n) = @_;
    return '' unless -f $file;
    my @lines = split /\n/, read_file($file);
    splice @lines, 0, @lines - $n if @lines > $n;
    return join '', map {"  $_\n"} @lines;
}

1;
__END__

=head1 NAME

SympaE2E::Web - Apache, mod_ssl and wwsympa.fcgi under multiwatch, run
privately for the e2e suite

=head1 DESCRIPTION

C<add_backend($name, env =E<gt> \%env, children =E<gt> N)> starts
C<multiwatch -f N -- wwsympa.fcgi> as the sympa user on a FastCGI socket
of the state directory, as Debian's C<wwsympa.service> and
C<wwsympa.socket> do, with the environment the unit's drop-ins give it;
C<start> runs Apache (C<apache2 -f> its own file, C<-DFOREGROUND>) with
one HTTPS port on 127.0.0.1 per backend, C<SSLVerifyClient optional> and
C<SSLOptions +StdEnvVars +ExportCertData> on C</wws>; C<get> makes a request
with curl, optionally with a client certificate; C<fcgi_children> and
C<sidecars> list the FastCGI children and their java children; C<stop>
kills everything that was started. C<missing> names what is not installed.

=cut
