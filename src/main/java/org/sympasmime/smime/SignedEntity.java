package org.sympasmime.smime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.Line;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.mime.MimeBase64;
import org.sympasmime.mime.MimeHeader;

/**
 * Where the signature and the signed bytes of a message are, found in the bytes as received
 * (never in a re-serialized MIME tree).
 *
 * <p>For {@code multipart/signed} the body is split at the delimiter lines as OpenSSL's
 * {@code multi_split} does: a {@code --boundary} line opens a part, a {@code --boundary--} line
 * closes the multipart, the line break before a delimiter belongs to the delimiter, and every
 * other line break becomes CRLF (trailing CRs of a line are dropped with its LF). The first part
 * in that form is the signed content. This is not {@link LineEnds#bareLfToCrlf}, which we apply
 * to what we sign ourselves: here the bytes must be those the other signer's software hashed,
 * and OpenSSL is what signers agree with.
 *
 * <p>Where OpenSSL and MIME-tools (which splits the message for Sympa) would split differently,
 * the message is refused ({@code malformed_input}) rather than split our way: a valid signature
 * must never vouch for parts Sympa reads elsewhere. So the enveloping header must be
 * unambiguous ({@link MimeHeader#unambiguousContentType}), and a line that starts with
 * {@code --boundary} must be a delimiter for both: OpenSSL takes any such line, MIME-tools only
 * one where nothing but transport padding (space, tab, CR) follows {@code --boundary} or
 * {@code --boundary--} (RFC 2046 5.1.1).
 */
sealed interface SignedEntity {

  /** Not an S/MIME signature: a result, not an error. */
  record NotSmime(String why) implements SignedEntity {}

  /** {@code multipart/signed}: the canonical first part and the DER of the signature. */
  record Detached(byte[] content, byte[] signature) implements SignedEntity {}

  /** {@code application/pkcs7-mime}: the DER of a CMS object, signed-data or not. */
  record Opaque(byte[] cms) implements SignedEntity {}

  static SignedEntity parse(byte[] message) throws SmimeException {
    MimeHeader header = MimeHeader.parse(message);
    Optional<MimeHeader.MediaType> type = header.contentType();
    if (type.isEmpty()) {
      return new NotSmime("no Content-Type: not an S/MIME message");
    }
    String media = type.get().mimeType();
    switch (media) {
      case "multipart/signed":
        return detached(message, header, unambiguous(header));
      case "application/pkcs7-mime":
      case "application/x-pkcs7-mime":
        return opaque(message, header, unambiguous(header));
      default:
        return new NotSmime(media + " is not S/MIME signed");
    }
  }

  private static MimeHeader.MediaType unambiguous(MimeHeader header) throws SmimeException {
    return header.unambiguousContentType()
        .orElseThrow(() -> new IllegalStateException("a type read leniently but not strictly"));
  }

  private static SignedEntity detached(byte[] message, MimeHeader header,
      MimeHeader.MediaType type) throws SmimeException {
    Optional<String> protocol =
        type.parameter("protocol").map(p -> p.strip().toLowerCase(Locale.ROOT));
    if (protocol.isPresent() && !isPkcs7Signature(protocol.get())) {
      return new NotSmime("multipart/signed with protocol " + protocol.get());
    }
    String boundary = type.parameter("boundary").orElse("");
    if (boundary.isEmpty()) {
      throw malformed("multipart/signed without a boundary");
    }
    if (boundary.endsWith(" ") || boundary.endsWith("\t")) {
      // MIME-tools strips it from delimiter lines, so none would ever match.
      throw malformed("multipart/signed whose boundary ends with white space");
    }
    List<byte[]> parts = split(message, header.bodyOffset(), boundary);
    if (parts.size() != 2) {
      if (protocol.isEmpty() && parts.size() >= 2 && !pkcs7Part(parts.get(1))) {
        return new NotSmime("multipart/signed whose signature is not S/MIME");
      }
      throw malformed("multipart/signed must have exactly two parts, found " + parts.size());
    }
    byte[] sigPart = parts.get(1);
    MimeHeader sigHeader = MimeHeader.parse(sigPart);
    String sigType = sigHeader.contentType().map(MimeHeader.MediaType::mimeType).orElse("");
    if (!isPkcs7Signature(sigType)) {
      if (protocol.isEmpty()) {
        return new NotSmime("multipart/signed whose signature is " + sigType);
      }
      throw malformed("the signature part is " + (sigType.isEmpty() ? "untyped" : sigType));
    }
    byte[] der = MimeBase64.decode(sigPart, sigHeader.bodyOffset(), "signature part");
    return new Detached(parts.get(0), der);
  }

  private static boolean pkcs7Part(byte[] part) {
    MimeHeader h = MimeHeader.parse(part);
    return h.contentType().map(t -> isPkcs7Signature(t.mimeType())).orElse(false);
  }

  private static boolean isPkcs7Signature(String type) {
    return type.equals("application/pkcs7-signature")
        || type.equals("application/x-pkcs7-signature");
  }

  private static SignedEntity opaque(byte[] message, MimeHeader header,
      MimeHeader.MediaType type) throws SmimeException {
    String smimeType =
        type.parameter("smime-type").map(s -> s.toLowerCase(Locale.ROOT)).orElse("");
    if (!smimeType.isEmpty() && !smimeType.equals("signed-data")
        && !smimeType.equals("certs-only")) {
      return new NotSmime("application/pkcs7-mime with smime-type=" + smimeType
          + " is not signed");
    }
    String cte = header.singleField("Content-Transfer-Encoding").orElse("base64").strip()
        .toLowerCase(Locale.ROOT);
    int start = header.bodyOffset();
    if (cte.equals("binary")) {
      byte[] der = new byte[message.length - start];
      System.arraycopy(message, start, der, 0, der.length);
      return new Opaque(der);
    }
    return new Opaque(MimeBase64.decode(message, start, "pkcs7-mime body"));
  }

  /**
   * The parts of a multipart body, each in canonical CRLF form. The closing delimiter is
   * required, as OpenSSL requires it.
   */
  static List<byte[]> split(byte[] bytes, int from, String boundary) throws SmimeException {
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    List<byte[]> parts = new ArrayList<>();
    ByteArrayOutputStream current = null;
    boolean inPart = false;
    boolean first = false;
    boolean eol = false;
    int pos = from;
    while (pos < bytes.length) {
      Line line = Line.at(bytes, pos);
      if (line.startsWith(bytes, delimiter)) {
        int after = pos + delimiter.length;
        if (isClose(bytes, after, line.contentEnd())) {
          if (current != null) {
            parts.add(current.toByteArray());
          }
          return parts;
        }
        if (!isPadding(bytes, after, line.contentEnd())) {
          throw malformed("a line starts with the delimiter --" + boundary
              + " and goes on: a delimiter for OpenSSL, not for MIME-tools");
        }
        inPart = true;
        first = true;
        pos = line.next();
        continue;
      }
      if (inPart) {
        if (first) {
          first = false;
          if (current != null) {
            parts.add(current.toByteArray());
          }
          current = new ByteArrayOutputStream();
        } else if (eol) {
          current.write('\r');
          current.write('\n');
        }
        eol = line.endsWithLf();
        current.write(bytes, pos, line.contentEnd() - pos);
      }
      pos = line.next();
    }
    throw malformed("multipart/signed without its closing delimiter --" + boundary + "--");
  }

  /** {@code --} then transport padding: the rest of a closing delimiter line. */
  private static boolean isClose(byte[] bytes, int from, int to) {
    return to - from >= 2 && bytes[from] == '-' && bytes[from + 1] == '-'
        && isPadding(bytes, from + 2, to);
  }

  /**
   * Only white space, as MIME-tools strips it from a delimiter line: space, tab and CR (the
   * CRs before the LF are already outside {@code to}).
   */
  private static boolean isPadding(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  private static SmimeException malformed(String why) {
    return new SmimeException(Reason.MALFORMED_INPUT, why);
  }
}
