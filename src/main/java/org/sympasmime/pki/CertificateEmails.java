package org.sympasmime.pki;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * The e-mail addresses of a certificate in the order Crypt::OpenSSL::X509's {@code email()}
 * gives them ({@code X509_get1_email}), because WWSympa logs users in as the first one.
 */
final class CertificateEmails {
  /** id-on-SmtpUTF8Mailbox (RFC 9598): internationalized addresses live in an otherName. */
  static final ASN1ObjectIdentifier SMTP_UTF8_MAILBOX =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.8.9");

  private CertificateEmails() {}

  /**
   * Subject emailAddress values (IA5String only), then SAN rfc822Names, dropping exact
   * (case-sensitive) duplicates. OpenSSL sorts its list before every duplicate lookup and
   * appends afterwards, so the result is byte-sorted except for the last address added.
   * SmtpUTF8Mailbox otherNames, which OpenSSL 3.0 ignores, are appended after that.
   */
  static List<String> of(X500Name subject, Extensions extensions) {
    List<byte[]> list = new ArrayList<>();
    for (RDN rdn : subject.getRDNs()) {
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        if (atv.getType().equals(PKCSObjectIdentifiers.pkcs_9_at_emailAddress)
            && atv.getValue() instanceof ASN1IA5String ia5) {
          append(list, ia5.getOctets());
        }
      }
    }
    List<String> utf8 = new ArrayList<>();
    GeneralName[] names =
        subjectAltNames(extensions).map(GeneralNames::getNames).orElse(new GeneralName[0]);
    for (GeneralName gn : names) {
      if (gn.getTagNo() == GeneralName.rfc822Name) {
        append(list, ASN1IA5String.getInstance(gn.getName()).getOctets());
      } else if (gn.getTagNo() == GeneralName.otherName) {
        smtpUtf8(gn).ifPresent(utf8::add);
      }
    }
    List<String> out = new ArrayList<>();
    for (byte[] b : list) {
      out.add(new String(b, StandardCharsets.ISO_8859_1));
    }
    for (String u : utf8) {
      if (!out.contains(u)) {
        out.add(u);
      }
    }
    return out;
  }

  private static void append(List<byte[]> list, byte[] value) {
    // OpenSSL strdup()s the value: it ends at the first NUL, and empty values are skipped.
    int n = 0;
    while (n < value.length && value[n] != 0) {
      n++;
    }
    if (value.length == 0) {
      return;
    }
    byte[] s = Arrays.copyOf(value, n);
    list.sort(Arrays::compareUnsigned);
    for (byte[] e : list) {
      if (Arrays.equals(e, s)) {
        return;
      }
    }
    list.add(s);
  }

  private static Optional<String> smtpUtf8(GeneralName gn) {
    ASN1Sequence seq = ASN1Sequence.getInstance(gn.getName());
    if (seq.size() < 2
        || !ASN1ObjectIdentifier.getInstance(seq.getObjectAt(0)).equals(SMTP_UTF8_MAILBOX)) {
      return Optional.empty();
    }
    ASN1Encodable value = seq.getObjectAt(1);
    if (value instanceof ASN1TaggedObject tagged) {
      ASN1Primitive inner = tagged.getBaseObject().toASN1Primitive();
      if (inner instanceof ASN1String s) {
        return Optional.of(s.getString());
      }
    }
    return Optional.empty();
  }

  private static Optional<GeneralNames> subjectAltNames(Extensions extensions) {
    if (extensions == null) {
      return Optional.empty();
    }
    Extension ext = extensions.getExtension(Extension.subjectAlternativeName);
    if (ext == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(GeneralNames.getInstance(ext.getParsedValue()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

}
