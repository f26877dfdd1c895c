#!/usr/bin/perl
# Settings in the environment survive FastCGI: wwsympa.fcgi's %ENV is the web
# server's request during a request (FCGI's Accept empties it), so
# Sympa::SMIME::Config takes SYMPA_SMIME_* as the process had them when it
# was loaded. Live, under Apache: t/e2e/sympa-web.t.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../perl/lib";
use Test::More;

my $named = '/nonexistent/sympa-smime-web.conf';

BEGIN {
    $ENV{SYMPA_SMIME_IDLE_TIMEOUT} = '7';
    $ENV{SYMPA_SMIME_CONFIG}       = '/nonexistent/sympa-smime-web.conf';
    delete $ENV{$_} for qw(GATEWAY_INTERFACE SYMPA_SMIME_JAVA);
}
use Sympa::SMIME::Config;

{
    # What FCGI's Accept leaves: the request's parameters only, among them
    # settings the web server chose to send.
    local %ENV = (
        GATEWAY_INTERFACE        => 'CGI/1.1',
        SERVER_NAME              => 'lists.example.org',
        SYMPA_SMIME_JAVA         => '/tmp/evil-java',
        SYMPA_SMIME_IDLE_TIMEOUT => '1',
        SYMPA_SMIME_CONFIG       => '/tmp/evil.conf',
    );
    my $conf = Sympa::SMIME::Config->load;
    is($conf->{idle_timeout}, 7,
        'in a request: idle_timeout from the environment of the process');
    is($conf->{sources}{idle_timeout}, 'env', '... reported as from env');
    is($conf->{java}, 'java', 'the request cannot choose the java run');
    is(Sympa::SMIME::Config->config_file,
        $named, 'nor the file: the one of the process');
}

{
    local %ENV = (
        SYMPA_SMIME_IDLE_TIMEOUT => '9',
        SYMPA_SMIME_CONFIG       => '/nonexistent/other.conf'
    );
    is(Sympa::SMIME::Config->load->{idle_timeout},
        9, 'outside a request: the environment as it is now');
    is(Sympa::SMIME::Config->config_file,
        '/nonexistent/other.conf', '... for the file too');
}

done_testing;
