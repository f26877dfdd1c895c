# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Loading order: the shim patches Sympa whether it comes first (PERL5OPT,
# before Sympa's "use lib"), last, or in between; each function once; the
# originals are kept (the five S/MIME functions and Sympa::List::get_cert).
# No sidecar needed.
use strict;
use warnings;
use B;
use Test::More;

use lib 't/lib';
use SMIMETest;

my $perl = $^X;
my @all  = "$ROOT/perl/lib";

# Runs perl with %env; returns stdout and stderr together.
sub run_perl {
    my $env  = shift;
    my @args = @_;
    local %ENV = (%ENV, %$env);
    delete $ENV{PERL5OPT} unless exists $env->{PERL5OPT};
    open my $ph, '-|' or do {
        open STDERR, '>&', \*STDOUT;
        exec $perl, @args;
        exit 127;
    };
    local $/;
    my $out = <$ph>;
    close $ph;
    return $out // '';
}

my $report = "$ROOT/t/lib";
my %pre    = (
    PERL5LIB            => "$ROOT/perl/lib:$report",
    PERL5OPT            => '-MSympa::SMIME::Shim -MReportPatch',
    REPORT_PATCH_AT_END => 1,
);

like run_perl(\%pre, '-w', '-e',
    qq{use lib "$SYMPA_LIB"; use Sympa::Message; 1}),
    qr/^patched=111111 originals=6$/m,
    'PERL5OPT before "use lib" of Sympa: all six patched';

like run_perl({%pre, PERL5OPT => '-MSympa::SMIME::Shim -MReportPatch'},
    '-w', '-e', qq{use lib "$SYMPA_LIB"; require Sympa::Message; 1}),
    qr/^patched=111111 originals=6$/m,
    'run-time require of Sympa::Message';

like run_perl(
    {PERL5LIB => "$ROOT/perl/lib:$report", REPORT_PATCH_AT_END => 1},
    '-w',
    "-I$SYMPA_LIB",
    '-MReportPatch',
    '-e',
    'use Sympa::Message; use Sympa::SMIME::Shim; 1'
    ),
    qr/^patched=111111 originals=6$/m, 'Sympa first, then the shim';

my $out = run_perl(
    {PERL5LIB => "$ROOT/perl/lib:$report", REPORT_PATCH_AT_END => 1},
    '-w',
    '-MReportPatch',
    '-e',
    qq{use Sympa::SMIME::Shim; use lib "$SYMPA_LIB"; use Sympa::Tools::SMIME;}
        . q{ BEGIN { print STDERR 'early ', ReportPatch::report() }}
        . q{ require Sympa::Message; 1}
);
like $out, qr/^early patched=000010 originals=1$/m,
    'Sympa::Tools::SMIME alone: parse_cert patched';
like $out, qr/^patched=111111 originals=6$/m, 'then Sympa::Message';

$out = run_perl(\%pre, '-w', '-e',
    qq{use lib "$SYMPA_LIB"; use Sympa::Message; require Sympa::SMIME::Shim;}
        . q{ Sympa::SMIME::Shim->import; 1});
like $out, qr/^patched=111111 originals=6$/m, 'loading again changes nothing';
unlike $out, qr/redefined|Shim\.pm line/,     'no warning from the shim';

like run_perl(\%pre, '-e',
    qq{use lib "$SYMPA_LIB"; require No::Such::Module;}),
    qr/^Can't locate No\/Such\/Module\.pm in \@INC/m,
    'other modules: the hook stays out of the way';

# Sympa's own programs, compiled (perl -c) with PERL5OPT as the systemd
# drop-ins set it.
foreach my $script (
    qw(/usr/lib/sympa/bin/sympa_msg.pl /usr/lib/sympa/bin/bulk.pl
    /usr/lib/sympa/bin/task_manager.pl /usr/lib/sympa/bin/archived.pl
    /usr/lib/sympa/bin/bounced.pl /usr/lib/cgi-bin/sympa/wwsympa.fcgi
    /usr/lib/cgi-bin/sympa/sympa_soap_server.fcgi)
) {
SKIP: {
        skip "$script not installed", 1 unless -f $script;
        my $out = run_perl({%pre, REPORT_PATCH_AT_END => 0}, '-c', $script);
        # wwsympa.fcgi loads FCGI as it compiles: its Accept is patched too.
        my $originals = $script =~ /wwsympa\.fcgi\z/ ? 7 : 6;
        like $out,
            qr/^patched=111111 originals=$originals\n(?s:.*)syntax OK$/m,
            "$script compiles with every function patched";
    }
}

# In this process SMIMETest loaded the shim, then "use lib" Sympa.
ok ref $INC[0] eq 'CODE', 'the hook is back in front after "use lib"';
is_deeply [sort keys %Sympa::SMIME::Shim::ORIGINAL], [
    qw(Sympa::List::get_cert
        Sympa::Message::check_smime_signature Sympa::Message::smime_decrypt
        Sympa::Message::smime_encrypt Sympa::Message::smime_sign
        Sympa::Tools::SMIME::parse_cert)
    ],
    'six originals kept';
foreach my $name (sort keys %Sympa::SMIME::Shim::ORIGINAL) {
    my $original = $Sympa::SMIME::Shim::ORIGINAL{$name};
    my ($module) = $name =~ /\A(.*)::\w+\z/;
    (my $file = "$module.pm") =~ s{::}{/}g;
    is(B::svref_2object($original)->FILE,
        $INC{$file}, "$name: the original comes from $INC{$file}");
    no strict 'refs';
    isnt \&{$name}, $original, "$name: replaced";
}

done_testing();
