# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Loaded with -M next to the shim, reports on STDERR, once everything is
# compiled (perl -c too), which Sympa functions the shim has replaced.
package ReportPatch;

use strict;
use warnings;

sub report {
    no strict 'refs';
    my @state = map {
        my ($name) = /(\w+)\z/;
        (defined &{$_} and \&{$_} == \&{"Sympa::SMIME::Shim::$name"})
            ? 1
            : 0
        } qw(Sympa::Message::check_smime_signature
        Sympa::Message::smime_decrypt Sympa::Message::smime_encrypt
        Sympa::Message::smime_sign Sympa::Tools::SMIME::parse_cert
        Sympa::List::get_cert);
    return sprintf "patched=%s originals=%d\n", join('', @state),
        scalar grep { defined $Sympa::SMIME::Shim::ORIGINAL{$_} }
        keys %Sympa::SMIME::Shim::ORIGINAL;
}

CHECK { print STDERR report() unless $ENV{REPORT_PATCH_AT_END} }
END   { print STDERR report() if $ENV{REPORT_PATCH_AT_END} }

1;
