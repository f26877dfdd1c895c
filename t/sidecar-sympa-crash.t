#!/usr/bin/perl
# Sidecar.pm picks its JSON module in a BEGIN block. Sympa's die handler
# (Sympa::Crash) exits on any die it does not see inside an eval, and while a
# module compiles it cannot see one ($^S is undef): a JSON module that is not
# installed must not take the Sympa daemon down.

use strict;
use warnings;
use File::Temp;
use FindBin qw($Bin);
use Test::More;

plan skip_all => 'Sympa is not installed'
    unless -f '/usr/share/sympa/lib/Sympa/Crash.pm';

my $program = <<'EOF';
use lib '/usr/share/sympa/lib';
use Sympa::Crash Hook => sub { print "crashed: $_[0]"; exit 3 };
unshift @INC, sub {
    die "Can't locate $_[1] (hidden by the test)\n"
        if $_[1] eq 'Cpanel/JSON/XS.pm';
    return;
};
eval { require Sympa::SMIME::Sidecar; 1 } or die $@;
print "loaded\n";
EOF

my $script = File::Temp->new(SUFFIX => '.pl');
print $script $program;
close $script;
my $out = qx{"$^X" -I"$Bin/../perl/lib" "$script" 2>&1};
is($? >> 8, 0, 'Sympa::SMIME::Sidecar loads under Sympa::Crash')
    or diag($out);
like($out, qr/^loaded$/m, 'with a fallback JSON module');

done_testing;
