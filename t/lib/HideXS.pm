# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# perl -It/lib -MHideXS ...: Crypt::SMIME and Crypt::OpenSSL::X509 cannot be
# loaded, as on a system where the XS modules are not installed.  Sympa then
# runs without them (its "BEGIN { eval 'use Crypt::SMIME' }" fails quietly)
# and only the shim and the sidecar are left.
package HideXS;

use strict;
use warnings;

my %hidden = map { ($_ => 1) } qw(Crypt/SMIME.pm Crypt/OpenSSL/X509.pm);

die "HideXS: loaded too late, $_ is already there\n"
    foreach grep { $INC{$_} } sort keys %hidden;

unshift @INC, sub {
    my (undef, $file) = @_;
    die "Can't locate $file in \@INC (hidden by HideXS)\n" if $hidden{$file};
    return;
};

1;
