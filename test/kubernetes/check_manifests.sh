#!/usr/bin/env bash
# Validates deploy/kubernetes offline with Debian's kubectl client (scripts/setup extracts it):
# `kubectl create --dry-run=client` decodes every manifest into its API type, with the API
# groups it maps kinds to read from a discovery cache in a throwaway HOME (test/kubernetes/
# discovery: core v1, batch/v1, apps/v1), since no cluster is reachable here. Then, beyond what
# kubectl knows: every Job's container arguments are valid `dynjobs` options (the real parser,
# through --help), every Secret key a container reads exists in the Secret, and a --tenants
# Job's tenants file (its ConfigMap) resolves with the Job's environment (the real resolver).
# Usage: check_manifests.sh KUBECTL DYNJOBS REPO
set -euo pipefail
kubectl=$1 dynjobs=$2 repo=$3
[ -x "$kubectl" ] || { echo "no kubectl at $kubectl: run scripts/setup" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/.kube/cache/discovery"
# Copied now: kubectl trusts a discovery cache younger than 10 minutes.
cp -r "$repo/test/kubernetes/discovery" "$home/.kube/cache/discovery/127.0.0.1_9"
cat > "$home/.kube/config" <<'CONFIG'
apiVersion: v1
kind: Config
clusters:
- cluster: {server: "http://127.0.0.1:9"}
  name: offline
contexts:
- context: {cluster: offline, namespace: default}
  name: offline
current-context: offline
CONFIG
kube() { env -i HOME="$home" PATH=/usr/bin:/bin "$kubectl" create --dry-run=client --validate=false "$@"; }

names=$(kube -R -f "$repo/deploy/kubernetes" -o name | sort)
expected=$(printf '%s\n' configmap/dynjobs-organizations configmap/dynjobs-tenants \
    job.batch/dynjobs-backfill-files job.batch/dynjobs-backfill-tenants \
    job.batch/dynjobs-backfill-workers persistentvolumeclaim/dynjobs-output \
    secret/dynjobs-credentials | sort)
if [ "$names" != "$expected" ]; then
    echo "deploy/kubernetes holds:" >&2; echo "$names" >&2
    echo "expected:" >&2; echo "$expected" >&2
    exit 1
fi

secret_keys=$(kube -f "$repo/deploy/kubernetes/credentials.yaml" -o jsonpath='{.stringData}' |
    python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin))))')
for job in "$repo"/deploy/kubernetes/*/*.yaml; do
    kind=$(kube -f "$job" -o jsonpath='{.kind}')
    [ "$kind" = Job ] || continue
    container=$(kube -f "$job" -o jsonpath='{.spec.template.spec.containers[0]}')
    mapfile -d '' args < <(python3 -c '
import json, sys
c = json.load(sys.stdin)
values = {e["name"]: e.get("value", "from-a-secret") for e in c.get("env", [])}
for a in c["args"]:
    for name, value in values.items():
        a = a.replace("$(" + name + ")", value)
    sys.stdout.write(a + "\0")' <<<"$container")
    if ! "$dynjobs" "${args[@]}" --help >/dev/null; then
        echo "$job: its arguments are not valid dynjobs options: ${args[*]}" >&2
        exit 1
    fi
    for key in $(python3 -c '
import json, sys
for e in json.load(sys.stdin).get("env", []):
    ref = e.get("valueFrom", {}).get("secretKeyRef")
    if ref:
        print(ref["key"])' <<<"$container"); do
        grep -qx "$key" <<<"$secret_keys" || { echo "$job reads Secret key $key, which credentials.yaml lacks" >&2; exit 1; }
    done
    # An Indexed Job's shards: --shard auto/N must name its completions, or shards go missing.
    spec=$(kube -f "$job" -o jsonpath='{.spec}')
    python3 -c '
import json, sys
spec, args = json.loads(sys.argv[1]), sys.argv[2:]
for field in ("completions", "parallelism"):
    if not isinstance(spec.get(field), int):
        sys.exit(f"{field} is {spec.get(field)!r}, not a number")
if "--shard" in args:
    shards = int(args[args.index("--shard") + 1].split("/")[1])
    if spec.get("completionMode") != "Indexed" or spec["completions"] != shards:
        mode, completions = spec.get("completionMode"), spec["completions"]
        sys.exit(f"--shard names {shards} shards; the Job must be Indexed with that many "
                 f"completions, not {mode} with {completions}")
' "$spec" "${args[@]}" || { echo "$job: the Job does not fit its arguments" >&2; exit 1; }
    # --tenants: the ConfigMap's file goes through dynjobs' own resolution with the container's
    # environment (dummy values): every tenant's shape, and every secret variable it names set.
    # Resolved, dynjobs then fails to reach a database on port 1 (2); 1 is bad input.
    if [[ " ${args[*]} " == *" --tenants "* ]]; then
        kube -f "$repo/deploy/kubernetes/postgresql/tenants.yaml" -o jsonpath='{.data.tenants\.json}' \
            >"$home/tenants.json"
        mapfile -t names < <(python3 -c '
import json, sys
print("\n".join(e["name"] for e in json.load(sys.stdin).get("env", [])))' <<<"$container")
        mapfile -d '' resolving < <(python3 -c '
import sys
args, out, i = sys.argv[2:], [], 0
while i < len(args):
    if args[i] in ("--tenants", "--output"):
        out += [args[i], sys.argv[1] if args[i] == "--tenants" else "postgresql://check@127.0.0.1:1/none"]
        i += 2
    else:
        out.append(args[i]); i += 1
sys.stdout.write("\0".join(out + ["--pg-retry-for", "0"]) + "\0")' "$home/tenants.json" "${args[@]}")
        resolved=$(env -i HOME="$home" $(printf '%s=set-by-a-secret ' "${names[@]}") \
            "$dynjobs" "${resolving[@]}" 2>&1) && status=0 || status=$?
        if [ "$status" = 1 ]; then
            echo "$job: its tenants file does not resolve: $resolved" >&2
            exit 1
        fi
    fi
    echo "$job: $kind, arguments, Secret keys and completions valid"
done
echo "kubectl checked YAML and kinds only (no cluster, so no API schema): see README"

