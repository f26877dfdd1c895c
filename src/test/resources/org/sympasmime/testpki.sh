#!/usr/bin/env bash
# Throwaway test PKI and signed messages, made with the openssl CLI (OpenSSL 3.0) into $1.
# Called once per test JVM by org.sympasmime.testutil.TestPki. Nothing here is secret.
set -euo pipefail
cd "$1"
exec 2>openssl.log

cat > ext.cnf <<'CNF'
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[user]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:copy
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ec]
keyUsage = critical,digitalSignature,keyAgreement
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[ed]
keyUsage = critical,digitalSignature
subjectAltName = email:copy
[nronly]
keyUsage = nonRepudiation
subjectAltName = email:copy
[anyeku]
keyUsage = digitalSignature
extendedKeyUsage = anyExtendedKeyUsage
[serverauth]
keyUsage = digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
[enconly]
keyUsage = keyEncipherment
[noku]
basicConstraints = CA:FALSE
subjectAltName = email:copy
[multi]
keyUsage = digitalSignature,keyEncipherment
subjectAltName = email:Second@Example.org,email:third@example.org,email:multi@example.org,DNS:www.example.org,email:not-an-email
[order]
keyUsage = digitalSignature
subjectAltName = email:bob@example.org,email:alice@example.org,email:carol@example.org
[order2]
keyUsage = digitalSignature
subjectAltName = email:bob@example.org
[dupcase]
keyUsage = digitalSignature
subjectAltName = email:JD@example.org
[utf8mbox]
keyUsage = digitalSignature
subjectAltName = @mbox_san
[mbox_san]
email.1 = ascii@example.org
otherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:jöe@exämple.org
CNF

cat > latin.cnf <<'CNF'
[req]
distinguished_name = dn
string_mask = default
[dn]
CNF

serial=100
key() { # name alg
  case "$2" in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
  esac
}
root() { # name subject
  key "$1" rsa
  openssl req -x509 -new -key "$1.key" -subj "$2" -days 7300 -sha256 \
    -config ext.cnf -extensions v3_ca -out "$1.crt"
}
leaf() { # name subject extensions(or -) issuer alg [extra req args...]
  local name=$1 subj=$2 ext=$3 issuer=$4 alg=$5
  shift 5
  key "$name" "$alg"
  openssl req -new -key "$name.key" -subj "$subj" -utf8 "$@" -out "$name.csr" \
    ${REQ_CONFIG:+-config "$REQ_CONFIG"}
  serial=$((serial + 1))
  if [ "$ext" = - ]; then
    openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" \
      -set_serial "$serial" -days 3650 -sha256 -out "$name.crt"
  else
    openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" \
      -set_serial "$serial" -days 3650 -sha256 -extfile ext.cnf -extensions "$ext" \
      -out "$name.crt"
  fi
}
dated() { # name subject start end: a 'user' leaf signed by root with fixed dates
  key "$1" rsa
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  serial=$((serial + 1))
  printf '%X\n' "$serial" | awk '{ s = $0; if (length(s) % 2) s = "0" s; print s }' > ca/serial
  openssl ca -config ca.cnf -batch -notext -preserveDN -startdate "$3" -enddate "$4" \
    -extfile ext.cnf -extensions user -in "$1.csr" -out "$1.crt"
}

mkdir -p ca/newcerts
: > ca/index.txt
cat > ca.cnf <<CNF
[ca]
default_ca = CA_default
[CA_default]
dir = $PWD/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = $PWD/root.crt
private_key = $PWD/root.key
default_md = sha256
policy = policy_anything
unique_subject = no
email_in_dn = yes
[policy_anything]
countryName = optional
organizationName = optional
commonName = supplied
emailAddress = optional
CNF
# The test root starts in 2019 so that expired certificates can be checked inside their
# validity with at_time.
key root rsa
openssl req -new -key root.key -subj "/C=FR/O=Test Org/CN=Test CA/emailAddress=ca@example.org" \
  -out root.csr
echo 01 > ca/serial
openssl ca -config ca.cnf -batch -notext -preserveDN -selfsign -keyfile root.key \
  -startdate 20190101000000Z -enddate 20460101000000Z -extfile ext.cnf -extensions v3_ca \
  -in root.csr -out root.crt
root other "/C=FR/O=Other Org/CN=Other CA"
leaf int "/C=FR/O=Test Org/CN=Test Intermediate CA" v3_int root rsa

leaf alice "/C=FR/O=Test Org/CN=Alice User/emailAddress=Alice@Example.org" user root rsa
leaf bob "/C=FR/O=Test Org/CN=Bob User/emailAddress=bob@example.org" user root rsa
leaf ec "/C=FR/O=Test Org/CN=EC User/emailAddress=ec@example.org" ec root ec
leaf ed "/C=FR/O=Test Org/CN=Ed User/emailAddress=ed@example.org" ed root ed25519
leaf nronly "/C=FR/O=Test Org/CN=NR Only/emailAddress=nr@example.org" nronly root rsa
leaf anyeku "/C=FR/O=Test Org/CN=Any EKU/emailAddress=any@example.org" anyeku root rsa
leaf serverauth "/C=FR/O=Test Org/CN=Server Auth/emailAddress=server@example.org" serverauth root rsa
leaf enconly "/C=FR/O=Test Org/CN=Enc Only/emailAddress=enc@example.org" enconly root rsa
leaf noku "/C=FR/O=Test Org/CN=No KU/emailAddress=noku@example.org" noku root rsa
leaf noext "/C=FR/O=Test Org/CN=No Ext/emailAddress=noext@example.org" - root rsa
leaf untrusted "/C=FR/O=Other Org/CN=Untrusted User/emailAddress=untrusted@example.org" user other rsa
leaf chained "/C=FR/O=Test Org/CN=Chained User/emailAddress=chained@example.org" user int rsa
leaf multi "/C=FR/O=Test Org/CN=Multi/emailAddress=multi@example.org/emailAddress=Multi@Example.org" multi root rsa
leaf uni "/C=FR/OU=Dépt+O=Université, Test/CN=Zoë Ünicode/emailAddress=zoe@example.org" user root rsa -multivalue-rdn
leaf attrs "/DC=org/DC=example/C=FR/ST=Ile-de-France/L=Paris/street=1 rue X/postalCode=75001/O=Org, Inc./OU=Unit A/OU=Unit B/title=Dr/GN=Jean/SN=Dupont/serialNumber=12345/UID=jdupont/CN=Jean \"JD\" Dupont/emailAddress=jd@example.org" dupcase root rsa
leaf order "/C=FR/CN=Order/emailAddress=zed@example.org" order root rsa
leaf order2 "/C=FR/CN=Order Two/emailAddress=zed@example.org" order2 root rsa
leaf mbox "/C=FR/CN=Mailbox/emailAddress=ascii@example.org" utf8mbox root rsa
REQ_CONFIG=latin.cnf leaf latin "/C=FR/CN=Zoë Latin/O=Łódź 漢字 Org" user root rsa
leaf emptysubj "/" user root rsa

dated expired "/C=FR/O=Test Org/CN=Expired User/emailAddress=expired@example.org" 20200101000000Z 20210101000000Z
dated future "/C=FR/O=Test Org/CN=Future User/emailAddress=future@example.org" 20400101000000Z 20410101000000Z

# Trust stores.
cat root.crt int.crt > cafile-with-int.pem
mkdir capath-plain capath-hashed capath-int
cp root.crt capath-plain/root.pem
cp root.crt capath-hashed/root.pem
openssl rehash capath-hashed
cp int.crt capath-int/int.pem

# The signed entity, CRLF, with a trailing space and an 8-bit body.
printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello world.\r\nSecond line with trailing space \r\n\r\n-- \r\nsig \xc3\xa9\r\n' > entity.txt
printf 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nNUL\x00byte \xff\xfe 8-bit\r\nlone\rCR kept\r\n\x00' > binary.txt

sign() { # out signer [cms args...]
  local out=$1 signer=$2
  shift 2
  openssl cms -sign -in entity.txt -signer "$signer.crt" -inkey "$signer.key" "$@" -out "$out.eml"
}
sign alice alice
sign alice-crlf alice -crlfeol
sign alice-opaque alice -nodetach
sign alice-nocerts alice -nocerts
sign alice-sha1 alice -md sha1
sign alice-md5 alice -md md5
sign alice-pss alice -keyopt rsa_padding_mode:pss
sign chained-certfile chained -certfile int.crt
sign chained chained
sign ec ec
sign nronly nronly
sign anyeku anyeku
sign serverauth serverauth
sign enconly enconly
sign noku noku
sign noext noext
sign untrusted untrusted
sign expired expired
sign future future
openssl cms -sign -in entity.txt -signer alice.crt -inkey alice.key \
  -signer bob.crt -inkey bob.key -out two-signers.eml
openssl cms -sign -binary -in binary.txt -signer alice.crt -inkey alice.key -out binary.eml
openssl cms -sign -binary -nodetach -in binary.txt -signer alice.crt -inkey alice.key \
  -out binary-opaque.eml
echo done > done
