#!/usr/bin/perl
# The Perl of this project is tidy under Sympa's own perltidy settings
# (doc/dot.perltidyrc of Sympa, copied to perl/.perltidyrc), as Sympa's
# xt/perltidy.t checks its own code, so that Sympa's maintainers read it as
# theirs.  To fix a file: perltidy --profile=perl/.perltidyrc -b -bext=/ FILE

use strict;
use warnings;
use File::Find;
use FindBin;
use Test::More;

use lib "$FindBin::Bin/lib";
use Prerequisite qw(missing);

my $root = "$FindBin::Bin/..";
missing('Perl::Tidy is not installed (Debian: perltidy)')
    unless eval { require Perl::Tidy; 1 };

my $rc = "$root/perl/.perltidyrc";

# The copy is Sympa's file as it is, where Sympa's package installs it.
my $sympas = '/usr/share/doc/sympa/dot.perltidyrc';
SKIP: {
    skip "$sympas not installed", 1 unless -f $sympas;
    (my $copy = slurp($rc)) =~ s/\A(?:#[^\n]*\n)*?(?=# Differences)//;
    is $copy, slurp($sympas),
        'perl/.perltidyrc is Sympa\'s dot.perltidyrc below its header';
}

my @files;
find(
    {   no_chdir => 1,
        wanted   => sub {
            return if m{/t/corpus/} or m{/t/tmp/} or m{/target/};
            return unless -f;
            push @files, $_
                if /\.(?:pm|pl|t)\z/
                or (m{/(?:perl/bin|t/e2e/bin)/[^/]+\z} and perl_script($_));
        }
    },
    map {"$root/$_"} qw(perl t bench)
);
ok(@files > 40, scalar(@files) . ' Perl files found');

foreach my $file (sort @files) {
    my $source = slurp($file);
    my ($tidied, $errors) = ('', '');
    my $failed = Perl::Tidy::perltidy(
        source      => \$source,
        destination => \$tidied,
        stderr      => \$errors,
        errorfile   => \$errors,
        perltidyrc  => $rc,
        argv        => [],
    );
    (my $name = $file) =~ s{\A\Q$root\E/}{};
    ok(!$failed && $tidied eq $source, "$name is tidy")
        or diag $errors
        || "perltidy --profile=perl/.perltidyrc -b -bext=/ $name";
}

done_testing;

sub perl_script {
    my $file = shift;
    open my $fh, '<', $file or return 0;
    my $first = <$fh> // '';
    close $fh;
    return $first =~ /\A#!.*\bperl\b/;
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content;
}
