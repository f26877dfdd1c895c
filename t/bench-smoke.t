# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# bench/all.pl still runs, every part, with tiny counts: it writes its
# results, tables and chart.  No figure is checked here: speed targets live
# in the benchmark (docs/performance.md), not in tests.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP   qw(decode_json);
use Test::More;

use lib 't/lib';
use SMIMETest;

plan skip_all => 'Crypt::SMIME is not installed: nothing to compare with'
    unless xs_available();
done_unless_sidecar();

my $out     = tempdir(DIR => "$ROOT/t/tmp", CLEANUP => 1);
my @command = (
    $^X, "$ROOT/bench/all.pl",
    '--quick',
    '--ops'         => 'smime_encrypt,parse_cert',
    '--sizes'       => '2KB',
    '--cold-calls'  => 2,
    '--warmup'      => 4,
    '--iterations'  => 2,
    '--recipients'  => 3,
    '--dist-warmup' => 1,
    '--spawns'      => 1,
    '--rss'         => '4,8',
    '--out'         => $out,
    '--svg'         => "$out/chart.svg"
);
my $output = `@command 2>&1`;
is $?, 0, 'bench/all.pl --quick runs' or diag $output;
like $output, qr/^chart: +\Q$out\E\/chart\.svg$/m,
    'prints where the chart is';

my $results = decode_json(slurp("$out/results.json"));
is_deeply [sort map {"$_->{mode} $_->{op} $_->{size}"} @{$results->{cells}}],
    [
    'cold parse_cert 2KB',
    'cold smime_encrypt 2KB',
    'warm parse_cert 2KB',
    'warm smime_encrypt 2KB'
    ],
    'the cells asked for, cold and warm';

foreach my $cell (@{$results->{cells}}) {
    ok $cell->{ours_ms} > 0 && $cell->{cs_ms} > 0 && $cell->{ratio} > 0,
        "$cell->{mode} $cell->{op}: both engines timed, a ratio";
}
ok $results->{distribution}{ratio} > 0, 'distribution loop: a ratio';
ok $results->{spawn}{version_ms} > 0 && $results->{spawn}{verify_ms} > 0,
    'spawn: both times';
is_deeply [map { $_->{calls} } @{$results->{rss}{points}}], [4, 8],
    'RSS read at the marks';
ok $results->{rss}{points}[-1]{VmRSS} > 0, 'RSS of the sidecar';
like slurp("$out/results.md"), qr/^\| `smime_encrypt` \|/m, 'Markdown tables';
like slurp("$out/chart.svg"),  qr/^<svg .*<\/svg>$/s,       'an SVG chart';

done_testing();
