// Tests of weft-manifest-check: a valid set passes, and each mistake it is there to catch
// is caught (run by deploy/check.sh before the validator is trusted with the chart).
package main

import (
	"strings"
	"testing"
)

// A Deployment, its Service, ConfigMap, ServiceAccount, Role and RoleBinding, all valid.
const valid = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: ns}
data: {weft.yaml: "{}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ns, labels: {app: app}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app, extra: "yes"}}
    spec:
      serviceAccountName: app
      volumes:
        - {name: config, configMap: {name: app, items: [{key: weft.yaml, path: weft.yaml}]}}
        - {name: home, emptyDir: {sizeLimit: 1Gi}}
      containers:
        - name: serve
          image: weft:0.1.0
          env:
            - {name: WEFT_DATABASE_URL, valueFrom: {secretKeyRef: {name: db, key: url}}}
          ports: [{name: http, containerPort: 3000}]
          volumeMounts:
            - {name: home, mountPath: /var/lib/weft}
            - {name: config, mountPath: /var/lib/weft/weft.yaml, subPath: weft.yaml}
          livenessProbe: {httpGet: {path: /api/health, port: http}}
          resources: {requests: {memory: 1Gi}, limits: {memory: 2Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: ns}
spec:
  selector: {app: app}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: app, namespace: ns}
spec:
  rules:
    - host: app.example.com
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {name: http}}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app, namespace: ns}
rules: [{apiGroups: [batch], resources: [jobs], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app}
subjects: [{kind: ServiceAccount, name: app, namespace: ns}]
`

func run(t *testing.T, manifests string, ext externals) []string {
	t.Helper()
	objs, problems := decodeAll(input{"test.yaml", []byte(manifests)})
	return append(problems, check(objs, ext)...)
}

func TestValidSetPasses(t *testing.T) {
	if problems := run(t, valid, externals{"Secret/db": true}); len(problems) > 0 {
		t.Fatalf("valid manifests refused:\n%s", strings.Join(problems, "\n"))
	}
}

func TestMistakesAreCaught(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown field", "replicas: 1", "replicas: 1\n  replica: 2", `unknown field "spec.replica"`},
		{"wrong type", "replicas: 1", "replicas: one", "spec.replicas"},
		{"duplicate key", "replicas: 1", "replicas: 1\n  replicas: 2", "already set in map"},
		{"unknown kind", "kind: ServiceAccount", "kind: ServiceAcount", "no kind"},
		{"selector does not match", "matchLabels: {app: app}", "matchLabels: {app: other}", "does not match template"},
		{"Recreate with rollingUpdate", "{type: Recreate}", "{type: Recreate, rollingUpdate: {maxSurge: 1}}", "may not be specified"},
		{"mount of no volume", "{name: home, mountPath", "{name: hom, mountPath", "volumeMounts[0].name: Not found"},
		{"probe on an undeclared port", "port: http}}", "port: metrics}}", "livenessProbe.httpGet.port: Not found"},
		{"liveness successThreshold", "port: http}}", "port: http}, successThreshold: 2}", "successThreshold: Invalid value: 2: must be 1"},
		{"request above limit", "limits: {memory: 2Gi}", "limits: {memory: 512Mi}", "must be less than or equal to memory limit"},
		{"bad quantity", "sizeLimit: 1Gi", "sizeLimit: 1 GB", "quantities must match"},
		{"bad env name", "name: WEFT_DATABASE_URL", "name: WEFT-DATABASE URL", "env[0].name"},
		{"bad label value", "extra: \"yes\"", "extra: \"not a label value\"", "metadata.labels"},
		{"Service selects nothing", "selector: {app: app}\n  ports", "selector: {app: nothing}\n  ports", "selects no pod template"},
		{"Service on an undeclared port", "targetPort: http", "targetPort: web", `targetPort "web"`},
		{"ConfigMap without the key", "key: weft.yaml, path", "key: weft.yml, path", `has no key "weft.yml"`},
		{"Role without apiGroups", "apiGroups: [batch], ", "", "resource rules must supply at least one api group"},
		{"binding to a missing Role", "kind: Role, name: app}", "kind: Role, name: ap}", `Role "ap" is neither in the manifests`},
		{"Ingress to a missing port", "port: {name: http}", "port: {name: web}", `Service app has no port "web"`},
		{"Ingress without pathType", "path: /, pathType: Prefix,", "path: /,", "pathType must be specified"},
		{"bad Service name", "kind: Service\nmetadata: {name: app", "kind: Service\nmetadata: {name: 1app", "metadata.name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(valid, c.old) {
				t.Fatalf("the valid manifests have no %q", c.old)
			}
			broken := strings.Replace(valid, c.old, c.new, 1)
			problems := strings.Join(run(t, broken, externals{"Secret/db": true}), "\n")
			if !strings.Contains(problems, c.want) {
				t.Fatalf("want a problem containing %q, got:\n%s", c.want, problems)
			}
		})
	}
}

func TestExternalReferencesMustBeDeclared(t *testing.T) {
	problems := strings.Join(run(t, valid, externals{}), "\n")
	if !strings.Contains(problems, `Secret "db" is neither in the manifests nor declared -external Secret/db`) {
		t.Fatalf("an undeclared Secret passed:\n%s", problems)
	}
}
