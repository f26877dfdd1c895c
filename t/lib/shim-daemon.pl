#!/usr/bin/perl
# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# A long-running Sympa process that loaded the shim the way daemons do
# (PERL5OPT=-MSympa::SMIME::Shim, PERL5LIB the installed modules), so that
# tests can take the jar or the modules away while it runs.  Nothing of the
# repository is in its @INC but what PERL5LIB says.
#
# Environment: SHIM_DAEMON_CONF, Sympa's settings as JSON (%Conf::Conf).
# Reads one request a line on stdin, "METHOD FILE [ARGUMENT]":
#   check_smime_signature FILE, smime_decrypt FILE, smime_encrypt FILE EMAIL,
#   smime_sign FILE LIST_DIRECTORY, parse_cert FILE
# and answers with "LOG level message" for each line Sympa logged, then
# "RESULT value xs=N sidecar=PID|none signed=0|1", then "DONE".  xs counts
# the Crypt::SMIME objects made so far: Sympa's own functions at work.
use strict;
use warnings;
use JSON::PP;

BEGIN {
    die "shim-daemon.pl: the shim is not loaded\n"
        unless $INC{'Sympa/SMIME/Shim.pm'};
}
use lib $ENV{SYMPA_LIB} || '/usr/share/sympa/lib';
use Conf;
use Sympa::List;
use Sympa::Log;
use Sympa::Message;
use Sympa::Tools::SMIME;

$|          = 1;
%Conf::Conf = %{JSON::PP->new->decode($ENV{SHIM_DAEMON_CONF})};

{
    no warnings 'redefine';
    *Sympa::Log::syslog = sub {
        my (undef, $level, $format, @args) = @_;
        my $errno = "$!";
        $format =~ s/%m/$errno/g;
        no warnings qw(redundant missing uninitialized);
        (my $line = sprintf $format, @args) =~ s/\n/ /g;
        print "LOG $level $line\n";
        return;
    };
}

my $xs = 0;
if (defined &Crypt::SMIME::new) {
    my $new = \&Crypt::SMIME::new;
    no warnings 'redefine';
    *Crypt::SMIME::new = sub { $xs++; goto &$new };
}

while (my $line = <STDIN>) {
    chomp $line;
    my ($method, $file, $argument) = split / /, $line, 3;
    my $string = do {
        open my $fh, '<', $file or die "$file: $!";
        local $/;
        <$fh>;
    };
    my ($result, $message);
    my $done = eval {
        if ($method eq 'parse_cert') {
            my $cert = Sympa::Tools::SMIME::parse_cert(file => $file);
            $result = $cert ? join(',', @{$cert->{emails}}) : undef;
            return 1;
        }
        my $context =
            $method eq 'smime_sign'
            ? bless({name => 'list', domain => 'x', dir => $argument},
            'Sympa::List')
            : '*';
        $message = Sympa::Message->new(
            $string,
            context => $context,
            sender  => 'alice@example.org'
        );
        my @args = $method eq 'smime_encrypt' ? ($argument) : ();
        $result = $message->$method(@args);
        $result = 'self' if ref $result and $result == $message;
        1;
    };
    unless ($done) {
        (my $error = $@) =~ s/\n/ /g;
        print "LOG died $error\n";
    }
    printf "RESULT %s xs=%d sidecar=%s signed=%d\n",
        $result // 'undef', $xs,
        Sympa::SMIME::Sidecar->instance->pid // 'none',
        ($message && $message->{smime_signed} ? 1 : 0);
    print "DONE\n";
}
