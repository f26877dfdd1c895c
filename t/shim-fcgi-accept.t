# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# wwsympa.fcgi under the shim: a child process (a sidecar leaving after
# idle_timeout) that exits while FCGI's Accept waits for a request no longer
# ends the wait, which ended wwsympa's request loop and its FastCGI child
# (every Sympa program catches SIGCHLD; CGI::Fast fails an interrupted
# accept). Other signals still end it. Live, under Apache:
# t/e2e/sympa-web.t.
use strict;
use warnings;
use File::Temp ();
use Test::More;

use lib 't/lib';
use SMIMETest;

eval { require FCGI; 1 } or plan skip_all => 'no FCGI (libfcgi-perl)';

# Waits in Accept on a socket nobody connects to, with a SIGCHLD handler as
# Sympa's, a child exiting after 0.3 s and SIGALRM after 1.5 s. Prints how
# long Accept waited, what it returned and how many SIGCHLD the handler saw.
my $script = <<'PERL';
use strict;
use FCGI;
use POSIX ();
use Time::HiRes qw(time sleep);
my $dir = shift;
my $socket = FCGI::OpenSocket("$dir/fcgi.socket", 5);
my $request = FCGI::Request(\*STDIN, \*STDOUT, \*STDERR, \%ENV, $socket);
my $chld = 0;
$SIG{CHLD} = sub { $chld++; 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
$SIG{ALRM} = sub { };
defined(my $pid = fork) or die "fork: $!";
unless ($pid) { sleep 0.3; POSIX::_exit(0) }
Time::HiRes::alarm(1.5);
my $t0 = time;
my $status = $request->Accept;
my $waited = time - $t0;
sleep 0.1;    # the pending SIGCHLD, delivered once unblocked
printf "waited=%.2f status=%d chld=%d\n", $waited, $status, $chld;
PERL

my $dir = File::Temp::tempdir(CLEANUP => 1);

sub run_accept {
    my %env = @_;
    local %ENV = (%ENV, %env);
    delete $ENV{PERL5OPT} unless $env{PERL5OPT};
    open my $ph, '-|', $^X, "-I$SYMPA_LIB", '-e', $script, $dir
        or die "perl: $!";
    local $/;
    my $out = <$ph>;
    close $ph;
    unlink "$dir/fcgi.socket";
    my %r = ($out // '') =~ /(\w+)=(-?[\d.]+)/g;
    return \%r, $out;
}

my ($stock, $out) = run_accept();
ok($stock->{status} < 0 && $stock->{waited} < 1.2,
    'without the shim the child\'s exit ends Accept (what ended wwsympa)')
    or diag $out;

my ($shim, $out2) = run_accept(
    PERL5LIB => "$ROOT/perl/lib",
    PERL5OPT => '-MSympa::SMIME::Shim'
);
cmp_ok($shim->{waited} // 0,
    '>=', 1.4, 'with the shim Accept waits on through the child\'s exit')
    or diag $out2;
ok($shim->{status} < 0, 'another signal (SIGALRM) still ends the wait')
    or diag $out2;
is($shim->{chld}, 1, 'Sympa\'s SIGCHLD handler ran afterwards') or diag $out2;

done_testing;
