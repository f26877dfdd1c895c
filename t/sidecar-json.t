# JSON module: Cpanel::JSON::XS, else JSON::XS, else JSON::PP; forced with
# SYMPA_SMIME_JSON.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Temp qw();
use Test::More;
use SidecarTest qw(require_jar perl_with_lib);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;

# What the client must pick here, found independently.
my ($expected) = grep {
    my $module = $_;
    system("$^X -M$module -e1 2>/dev/null") == 0;
} qw(Cpanel::JSON::XS JSON::XS JSON::PP);

my $script = <<'PERL';
use strict;
use warnings;
use Sympa::SMIME::Sidecar;
$SIG{__WARN__} = sub { print STDERR @_ unless $_[0] =~ /^sidecar: /; };
my $s = Sympa::SMIME::Sidecar->instance;
my @out = (Sympa::SMIME::Sidecar::json_class());
push @out, $s->call('service.version')->{name};
my @many = $s->call_many([map { ['service.health', {n => $_}] } 1 .. 20]);
push @out, scalar grep { $_->{result}{status} eq 'ok' } @many;
my $e = eval { $s->call('no.such', {text => "caf\x{e9}"}); 1 } ? 'none' : $@;
push @out, ref $e ? $e->reason : "not an object: $e";
print join(' ', @out), "\n";
PERL

sub run_with {
    my ($forced, @inc) = @_;
    local $ENV{SYMPA_SMIME_JSON} = $forced if defined $forced;
    open my $child, '-|', perl_with_lib(), (map {"-I$_"} @inc), '-e', $script
        or die "cannot run perl: $!";
    my $output = do { local $/; <$child> };
    close $child;
    return ($? >> 8, $output);
}

my ($status, $output) = run_with(undef);
is($status, 0, 'default run');
is( $output,
    "$expected sympa-smime 20 unknown_method\n",
    "default picks $expected and works"
);

($status, $output) = run_with('JSON::PP');
is($status, 0, 'JSON::PP run');
is( $output,
    "JSON::PP sympa-smime 20 unknown_method\n",
    'SYMPA_SMIME_JSON=JSON::PP is used and works'
);

SKIP: {
    skip 'JSON::XS not installed', 2
        unless system("$^X -MJSON::XS -e1 2>/dev/null") == 0;
    ($status, $output) = run_with('JSON::XS');
    is($output, "JSON::XS sympa-smime 20 unknown_method\n",
        'SYMPA_SMIME_JSON=JSON::XS');
    is($status, 0, 'JSON::XS run');
}

# Cpanel::JSON::XS comes first when present.  A stand-in with its name (the
# JSON::PP engine under it) is enough to check the order.
{
    my $dir = File::Temp->newdir;
    mkdir "$dir/Cpanel";
    mkdir "$dir/Cpanel/JSON";
    open my $fh, '>', "$dir/Cpanel/JSON/XS.pm" or die $!;
    print $fh "package Cpanel::JSON::XS; use parent 'JSON::PP'; 1;\n";
    close $fh;
    ($status, $output) = run_with(undef, "$dir");
    is( $output,
        "Cpanel::JSON::XS sympa-smime 20 unknown_method\n",
        'Cpanel::JSON::XS preferred when installed'
    );
}

{
    local $ENV{SYMPA_SMIME_JSON} = 'No::Such::JSON';
    my $warnings =
        `$^X -I$SidecarTest::ROOT/perl/lib -MSympa::SMIME::Sidecar -e 'print Sympa::SMIME::Sidecar::json_class()' 2>&1`;
    like(
        $warnings,
        qr/SYMPA_SMIME_JSON=No::Such::JSON is not one of/,
        'unknown SYMPA_SMIME_JSON reported'
    );
    like($warnings, qr/\Q$expected\E\z/, 'and ignored');
}

done_testing;
