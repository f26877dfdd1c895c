#!/bin/bash
# Measures k, the heap a request costs per byte of its line, for each method:
# the smallest -Xmx (in MiB, by bisection) at which the sidecar answers one
# request of N bytes, less the smallest at which it answers a tiny one,
# divided by N.  MemoryBudget.DEFAULT_COST_PER_BYTE must be at least the
# largest k printed here (docs/architecture.md#memory).
#
#   bash bench/heap-cost.sh [SIZE_MIB]       (default 8: an 8 MiB entity)
#
# Runs with the default java_opts' collector (-XX:+UseSerialGC) and the
# budget switched off (-Dsympa.smime.heapCostPerByte=1), so that a request
# that does not fit dies of OutOfMemoryError instead of getting too_large.
# Not a test: takes a few minutes; run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=target/sympa-smime.jar
size_mib=${1:-8}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
    -subj '/CN=Bench/emailAddress=bench@example.org' \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
# Text in lines, as mail is: 76 characters and LF.
head -c $((size_mib * 786432)) /dev/urandom | base64 -w 76 >"$dir/body"
{ printf 'Content-Type: text/plain\n\n'; cat "$dir/body"; } >"$dir/entity"
openssl smime -encrypt -aes128 -in "$dir/entity" -out "$dir/encrypted" "$dir/cert.pem"
openssl smime -sign -in "$dir/entity" -signer "$dir/cert.pem" -inkey "$dir/key.pem" \
    -out "$dir/signed"

b64() { base64 -w 0 "$1"; }
request() { # method params-json-prefix file-member file
    printf '{"id":1,"jsonrpc":"2.0","method":"%s","params":{%s"%s":"' "$1" "$2" "$3"
    b64 "$4"
    printf '"}}\n'
}
request service.echo '' data_b64 "$dir/entity" >"$dir/service.echo"
request smime.encrypt "\"recipients\":[{\"path\":\"$dir/cert.pem\"}]," entity_b64 \
    "$dir/entity" >"$dir/smime.encrypt"
request smime.sign "\"cert\":\"$dir/cert.pem\",\"key\":\"$dir/key.pem\"," entity_b64 \
    "$dir/entity" >"$dir/smime.sign"
request smime.decrypt "\"keys\":[{\"cert\":\"$dir/cert.pem\",\"key\":\"$dir/key.pem\"}]," \
    message_b64 "$dir/encrypted" >"$dir/smime.decrypt"
request smime.verify "\"cafile\":\"$dir/cert.pem\"," message_b64 "$dir/signed" \
    >"$dir/smime.verify"
printf '{"id":1,"jsonrpc":"2.0","method":"service.version"}\n' >"$dir/tiny"

answers() { # heap-mib request-file: true when the sidecar answers with a result
    java "-Xmx${1}m" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
        -XX:+DisplayVMOutputToStderr -Dsympa.smime.heapCostPerByte=1 -jar "$jar" \
        <"$2" 2>/dev/null | grep -q '"result"'
}
smallest() { # request-file: the smallest heap, in MiB, that answers it
    local low=4 high=1024
    while ((high - low > 1)); do
        local mid=$(((low + high) / 2))
        if answers "$mid" "$1"; then high=$mid; else low=$mid; fi
    done
    echo "$high"
}

base=$(smallest "$dir/tiny")
echo "baseline: a tiny request needs -Xmx${base}m"
for method in service.echo smime.decrypt smime.encrypt smime.sign smime.verify; do
    bytes=$(stat -c %s "$dir/$method")
    heap=$(smallest "$dir/$method")
    k=$(echo "scale=2; ($heap - $base) * 1048576 / $bytes" | bc)
    printf '%-14s request %9d bytes  needs -Xmx%4dm  k = %s\n' "$method" "$bytes" "$heap" "$k"
done
