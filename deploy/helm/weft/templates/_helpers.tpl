{{/*
Helpers of the Weft chart: names, labels, the image, the Secrets' names and keys, the
rendered weft.yaml, and the pod parts every Weft Deployment shares (environment, volumes,
security context, scheduling).
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "weft.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The objects' name prefix: fullnameOverride, else "<release>-<name>" (just "<release>" when
the release name already contains the chart name). 63 characters at most (a DNS label);
names get suffixes ("-daemon"), so it is cut at 52.
*/}}
{{- define "weft.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "weft-0.1.0", for the helm.sh/chart label. */}}
{{- define "weft.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select a component's pods: call with (dict "ctx" $ "component" "serve"). */}}
{{- define "weft.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weft.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Every object's labels; the same argument as weft.selectorLabels (component optional). */}}
{{- define "weft.labels" -}}
helm.sh/chart: {{ include "weft.chart" .ctx }}
{{ include "weft.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: weft
{{- end }}

{{/* The image reference: repository[:tag][@digest]. */}}
{{- define "weft.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The ServiceAccount the pods (and the run launcher's pods) run as. */}}
{{- define "weft.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "weft.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret and key holding the database URL ("" when weft.yaml has database_url). The
chart's own Secret names its key WEFT_DATABASE_URL, so that the run and step pods of the
k8s launcher can take it whole (`k8s.env_secrets`, an envFrom).
*/}}
{{- define "weft.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else if .Values.database.url }}
{{- printf "%s-database" (include "weft.fullname" .) }}
{{- end }}
{{- end }}

{{- define "weft.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey | default "WEFT_DATABASE_URL" }}
{{- else }}
{{- print "WEFT_DATABASE_URL" }}
{{- end }}
{{- end }}

{{/* The Secret and key holding the API token ("" without a token). */}}
{{- define "weft.authSecretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if .Values.auth.token }}
{{- printf "%s-auth" (include "weft.fullname" .) }}
{{- end }}
{{- end }}

{{- define "weft.authSecretKey" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecretKey | default "token" }}
{{- else }}
{{- print "token" }}
{{- end }}
{{- end }}

{{/* "true" when Weft starts pods itself: the k8s run launcher, or the k8s-job executor. */}}
{{- define "weft.k8sInUse" -}}
{{- $instance := .Values.instance | default dict }}
{{- $launcher := get $instance "run_launcher" }}
{{- $type := "" }}
{{- if kindIs "map" $launcher }}{{ $type = toString (get $launcher "type") }}{{ end }}
{{- if or (eq $type "k8s") (eq (toString (get $instance "executor")) "k8s-job") }}true{{ end }}
{{- end }}

{{/*
Fails the render when nothing says where the database is, or when run pods could not get
it: they take the database Secret whole (envFrom), so its key must be WEFT_DATABASE_URL
unless instance.k8s.env_secrets says otherwise.
*/}}
{{- define "weft.checkDatabase" -}}
{{- $instance := .Values.instance | default dict }}
{{- if not (or .Values.database.existingSecret .Values.database.url (get $instance "database_url")) }}
{{- fail "weft: set database.url or database.existingSecret (a PostgreSQL URL): serve, the daemon, workers and run pods share one database" }}
{{- end }}
{{- $k8s := get $instance "k8s" | default dict }}
{{- if and (include "weft.k8sInUse" .) (include "weft.databaseSecretName" .) (ne (include "weft.databaseSecretKey" .) "WEFT_DATABASE_URL") (not (hasKey $k8s "env_secrets")) }}
{{- fail (printf "weft: the k8s launcher's pods take Secret %s whole (envFrom), so the database URL must be under the key WEFT_DATABASE_URL, not %s; or set instance.k8s.env_secrets yourself" (include "weft.databaseSecretName" .) (include "weft.databaseSecretKey" .)) }}
{{- end }}
{{- end }}

{{/* The namespace where Weft creates run and step pods (instance.k8s.namespace). */}}
{{- define "weft.launcherNamespace" -}}
{{- $instance := .Values.instance | default dict }}
{{- $k8s := get $instance "k8s" | default dict }}
{{- get $k8s "namespace" | default .Release.Namespace }}
{{- end }}

{{/*
The namespaces the chart renders the instance's ConfigMap, database Secret and
ServiceAccount into: the release's, and the run pods' when they differ (a pod can only
mount a ConfigMap and Secret of its own namespace). A JSON list.
*/}}
{{- define "weft.namespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- if include "weft.k8sInUse" . }}
{{- $namespaces = append $namespaces (include "weft.launcherNamespace" .) | uniq }}
{{- end }}
{{- toJson $namespaces }}
{{- end }}

{{/* The volumes every Weft pod has (a YAML list): weft.yaml, $WEFT_HOME, /tmp, extras. */}}
{{- define "weft.volumes" -}}
{{- $home := dict }}
{{- with .Values.home.medium }}{{ $_ := set $home "medium" . }}{{ end }}
{{- with .Values.home.sizeLimit }}{{ $_ := set $home "sizeLimit" . }}{{ end }}
{{- $tmp := dict }}
{{- with .Values.tmp.sizeLimit }}{{ $_ := set $tmp "sizeLimit" . }}{{ end }}
{{- $config := dict "name" (include "weft.fullname" .) "items" (list (dict "key" "weft.yaml" "path" "weft.yaml")) }}
{{- $volumes := list (dict "name" "config" "configMap" $config) (dict "name" "home" "emptyDir" $home) (dict "name" "tmp" "emptyDir" $tmp) }}
{{- toYaml (concat $volumes (.Values.extraVolumes | default list)) }}
{{- end }}

{{/*
The mounts of every Weft container (a YAML list). $WEFT_HOME is the writable emptyDir;
weft.yaml is mounted into it from the ConfigMap (subPath: Weft reads $WEFT_HOME/weft.yaml
and writes the rest of $WEFT_HOME). A subPath mount does not follow ConfigMap changes: the
pods' checksum/config annotation rolls them instead.
*/}}
{{- define "weft.volumeMounts" -}}
{{- $mounts := list (dict "name" "home" "mountPath" "/var/lib/weft") (dict "name" "config" "mountPath" "/var/lib/weft/weft.yaml" "subPath" "weft.yaml" "readOnly" true) (dict "name" "tmp" "mountPath" "/tmp") }}
{{- toYaml (concat $mounts (.Values.extraVolumeMounts | default list)) }}
{{- end }}

{{/*
weft.yaml: `instance` as given. When Weft starts pods (k8s launcher, k8s-job executor), its
`k8s:` section (the pods' defaults) gets what the chart knows, for each field not given:
the image and its pull policy and secrets, the namespace, the ServiceAccount, the database
Secret and the extraEnvFrom sources (env_secrets, env_config_maps), the extraEnv given by
value (env), the security contexts, the scheduling defaults; labels are added to its own;
and the volumes and mounts of every Weft pod (weft.yaml, $WEFT_HOME, /tmp, extraVolumes)
come before any of its own. Pods that run steps (run and step pods, workers) fetch components
by digest from the server's Service (`component_server`, unless given), with the API token
when there is one (`secret_env` WEFT_TOKEN from the auth Secret).
*/}}
{{- define "weft.instanceYaml" -}}
{{- $instance := deepCopy (.Values.instance | default dict) }}
{{- if and (or (include "weft.k8sInUse" .) .Values.workers.enabled) (not (hasKey $instance "component_server")) }}
{{- $_ := set $instance "component_server" (printf "http://%s.%s.svc:%v" (include "weft.fullname" .) .Release.Namespace .Values.service.port) }}
{{- end }}
{{- if include "weft.k8sInUse" . }}
{{- $k8s := get $instance "k8s" | default dict }}
{{- $defaults := dict
    "image" (include "weft.image" .)
    "image_pull_policy" .Values.image.pullPolicy
    "namespace" (include "weft.launcherNamespace" .)
    "service_account_name" (include "weft.serviceAccountName" .)
    "security_context" .Values.securityContext
    "pod_security_context" .Values.podSecurityContext }}
{{- with .Values.imagePullSecrets }}
{{- $names := list }}
{{- range . }}{{ $names = append $names .name }}{{ end }}
{{- $_ := set $defaults "image_pull_secrets" $names }}
{{- end }}
{{- $secrets := list }}
{{- with include "weft.databaseSecretName" . }}{{ $secrets = append $secrets . }}{{ end }}
{{- $configMaps := list }}
{{- range .Values.extraEnvFrom }}
{{- with .secretRef }}{{ $secrets = append $secrets .name }}{{ end }}
{{- with .configMapRef }}{{ $configMaps = append $configMaps .name }}{{ end }}
{{- end }}
{{- with $secrets }}{{ $_ := set $defaults "env_secrets" . }}{{ end }}
{{- with $configMaps }}{{ $_ := set $defaults "env_config_maps" . }}{{ end }}
{{- $env := dict }}
{{- range .Values.extraEnv }}
{{- if hasKey . "value" }}{{ $_ := set $env .name (toString .value) }}{{ end }}
{{- end }}
{{- with $env }}{{ $_ := set $defaults "env" . }}{{ end }}
{{- with include "weft.authSecretName" . }}
{{- $_ := set $defaults "secret_env" (dict "WEFT_TOKEN" (dict "secret" . "key" (include "weft.authSecretKey" $))) }}
{{- end }}
{{- with .Values.nodeSelector }}{{ $_ := set $defaults "node_selector" . }}{{ end }}
{{- with .Values.tolerations }}{{ $_ := set $defaults "tolerations" . }}{{ end }}
{{- range $key, $value := $defaults }}
{{- if not (hasKey $k8s $key) }}
{{- $_ := set $k8s $key $value }}
{{- end }}
{{- end }}
{{- $labels := dict "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/part-of" "weft" }}
{{- $_ := set $k8s "labels" (merge (get $k8s "labels" | default dict) $labels) }}
{{- $_ := set $k8s "volumes" (concat (include "weft.volumes" . | fromYamlArray) (get $k8s "volumes" | default list)) }}
{{- $_ := set $k8s "volume_mounts" (concat (include "weft.volumeMounts" . | fromYamlArray) (get $k8s "volume_mounts" | default list)) }}
{{- $_ := set $instance "k8s" $k8s }}
{{- end }}
{{- if $instance }}
{{- toYaml $instance }}
{{- else }}
{{- print "{}" }}
{{- end }}
{{- end }}

{{/* A component's value, else the top-level one: (dict "ctx" $ "component" .Values.serve "key" "nodeSelector"). */}}
{{- define "weft.scheduling" -}}
{{- $ctx := .ctx }}
{{- $c := .component }}
{{- with (get $c "nodeSelector" | default $ctx.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (get $c "affinity" | default $ctx.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (get $c "tolerations" | default $ctx.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* The pod-level fields every Weft pod has (under `spec:` of a pod template). */}}
{{- define "weft.podSpec" -}}
serviceAccountName: {{ include "weft.serviceAccountName" .ctx }}
automountServiceAccountToken: true
enableServiceLinks: false
terminationGracePeriodSeconds: {{ get .component "terminationGracePeriodSeconds" | default .ctx.Values.terminationGracePeriodSeconds }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- include "weft.scheduling" . }}
volumes:
  {{- include "weft.volumes" .ctx | nindent 2 }}
{{- end }}

{{/*
The container fields every Weft container has: image, security context, environment and
mounts; (dict "ctx" $ "token" true) adds WEFT_TOKEN (the API token, for `weft serve`).
*/}}
{{- define "weft.container" -}}
image: {{ include "weft.image" .ctx | quote }}
imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .ctx.Values.securityContext | nindent 2 }}
env:
  - name: WEFT_HOME
    value: /var/lib/weft
  - name: TMPDIR
    value: /tmp
  {{- with include "weft.databaseSecretName" .ctx }}
  - name: WEFT_DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ include "weft.databaseSecretKey" $.ctx }}
  {{- end }}
  {{- if .token }}
  {{- with include "weft.authSecretName" .ctx }}
  - name: WEFT_TOKEN
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ include "weft.authSecretKey" $.ctx }}
  {{- end }}
  {{- end }}
  {{- with .ctx.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .ctx.Values.extraEnvFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  {{- include "weft.volumeMounts" .ctx | nindent 2 }}
{{- end }}

{{/* The pod template's annotations: the config checksum (rolls pods on change) and extras. */}}
{{- define "weft.podAnnotations" -}}
checksum/config: {{ include "weft.instanceYaml" .ctx | sha256sum }}
{{- if or .ctx.Values.database.url .ctx.Values.auth.token }}
checksum/secrets: {{ printf "%s\n%s" .ctx.Values.database.url .ctx.Values.auth.token | sha256sum }}
{{- end }}
{{- with .ctx.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .component.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod template's labels: selector labels plus extras. */}}
{{- define "weft.podLabels" -}}
{{ include "weft.labels" (dict "ctx" .ctx "component" .name) }}
{{- with .ctx.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- with .component.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
