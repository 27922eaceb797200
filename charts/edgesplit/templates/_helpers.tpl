{{/*
Chart name, cut to 63 characters (the DNS label limit of object names).
*/}}
{{- define "edgesplit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name prefix: the release name, plus the chart name unless the release name
already contains it; 63 characters at most. Suffixed names (-planner, -router,
-p<i>) cut the prefix further so the whole name still fits.
*/}}
{{- define "edgesplit.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* <fullname>-<suffix> within 63 characters: the prefix is cut, never the suffix. */}}
{{- define "edgesplit.suffixed" -}}
{{- $ctx := index . 0 }}{{- $suffix := index . 1 }}
{{- $max := sub 62 (len $suffix) | int }}
{{- printf "%s-%s" (include "edgesplit.fullname" $ctx | trunc $max | trimSuffix "-") $suffix }}
{{- end }}

{{- define "edgesplit.plannerName" -}}{{ include "edgesplit.suffixed" (list . "planner") }}{{- end }}
{{- define "edgesplit.routerName" -}}{{ include "edgesplit.suffixed" (list . "router") }}{{- end }}
{{- define "edgesplit.partitionName" -}}{{ include "edgesplit.suffixed" (list (index . 0) (printf "p%d" (index . 1 | int))) }}{{- end }}

{{/*
The ConfigMap the planner writes (fixed name in src/roles/planner/k8s/objects.ts).
*/}}
{{- define "edgesplit.planConfigMap" -}}edgesplit-plan{{- end }}
{{- define "edgesplit.planMount" -}}/etc/edgesplit/plan{{- end }}

{{- define "edgesplit.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels. app.kubernetes.io/name stays "edgesplit" whatever nameOverride
says: the planner labels the partitions it creates with it, and the
NetworkPolicies select on it.
*/}}
{{- define "edgesplit.selectorLabels" -}}
app.kubernetes.io/name: edgesplit
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels on every object. */}}
{{- define "edgesplit.labels" -}}
helm.sh/chart: {{ include "edgesplit.chart" . }}
{{ include "edgesplit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: edgesplit
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "edgesplit.plannerServiceAccountName" -}}
{{- if .Values.planner.serviceAccount.create }}
{{- default (include "edgesplit.plannerName" .) .Values.planner.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.planner.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "edgesplit.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* OTel SDK environment for one component: (list $ "router"). */}}
{{- define "edgesplit.otelEnv" -}}
{{- $ := index . 0 }}{{- $component := index . 1 }}
{{- if $.Values.otel.enabled }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "edgesplit-%s" $component | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "otel.endpoint is required when otel.enabled=true" $.Values.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $.Values.otel.protocol | quote }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_TRACES_SAMPLER
  value: {{ $.Values.otel.sampler | quote }}
{{- with $.Values.otel.samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | toString | quote }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: K8S_NODE_NAME
  valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=%s,k8s.namespace.name=%s,k8s.pod.name=$(K8S_POD_NAME),k8s.node.name=$(K8S_NODE_NAME),service.version=%s%s" $.Release.Namespace $.Release.Namespace $.Chart.AppVersion (ternary (printf ",%s" $.Values.otel.resourceAttributes) "" (ne $.Values.otel.resourceAttributes "")) | quote }}
{{- else if $.Values.metrics.enabled }}
# The telemetry SDK runs for /metrics only: no traces, no OTLP metrics.
- name: OTEL_TRACES_EXPORTER
  value: none
- name: OTEL_METRICS_EXPORTER
  value: none
{{- else }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- end }}
{{- if $.Values.metrics.enabled }}
- name: EDGESPLIT_PROMETHEUS_PORT
  value: {{ $.Values.metrics.port | quote }}
{{- end }}
{{- end }}

{{/* The `metrics` container port (metrics.enabled); nothing otherwise. */}}
{{- define "edgesplit.metricsContainerPort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{/* The `metrics` Service port (metrics.enabled), which the ServiceMonitor scrapes. */}}
{{- define "edgesplit.metricsServicePort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  port: {{ .Values.metrics.port }}
  targetPort: metrics
  protocol: TCP
{{- end }}
{{- end }}

{{/* The writable /tmp every container gets (the root filesystem is read-only). */}}
{{- define "edgesplit.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* gRPC probes on grpc.health.v1; the kubelet's gRPC probe cannot speak TLS, so TLS ports get TCP probes. */}}
{{- define "edgesplit.probe" -}}
{{- $ := index . 0 }}{{- $port := index . 1 }}{{- $tls := index . 2 }}
{{- if $tls }}
tcpSocket:
  port: {{ $port }}
{{- else }}
grpc:
  port: {{ $port }}
{{- end }}
{{- end }}

{{/* Checks values that templates cannot express as types. */}}
{{- define "edgesplit.validate" -}}
{{- if and (ne (toString .Values.model.accuracyFloor) "") (ne (toString .Values.model.sloMs) "") }}
{{- fail "set model.accuracyFloor or model.sloMs, not both" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled=true (the ServiceMonitor scrapes the metrics port)" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.secretName is required when tls.enabled=true" }}
{{- end }}
{{- if not .Values.planner.enabled }}
{{- if not .Values.static.package }}{{ fail "static.package is required when planner.enabled=false" }}{{ end }}
{{- if not .Values.static.partitions }}{{ fail "static.partitions must list one node per partition when planner.enabled=false" }}{{ end }}
{{- range $i, $p := .Values.static.partitions }}
{{- if not $p.node }}{{ fail (printf "static.partitions[%d].node is required" $i) }}{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
TLS (tls.enabled): one shared cluster certificate, the Secret tls.secretName
mounted read-only at /etc/edgesplit/tls in every pod, EDGESPLIT_TLS_* pointing
at its files (src/runtime/tls.ts reads them).
*/}}
{{- define "edgesplit.tlsDir" -}}/etc/edgesplit/tls{{- end }}

{{/* EDGESPLIT_TLS_* of one container: (list $ requireClientCert); nothing when TLS is off. */}}
{{- define "edgesplit.tlsEnv" -}}
{{- $ := index . 0 }}{{- $require := index . 1 }}
{{- if $.Values.tls.enabled }}
{{- $dir := include "edgesplit.tlsDir" $ }}
- name: EDGESPLIT_TLS_CERT
  value: {{ printf "%s/tls.crt" $dir | quote }}
- name: EDGESPLIT_TLS_KEY
  value: {{ printf "%s/tls.key" $dir | quote }}
- name: EDGESPLIT_TLS_CA
  value: {{ printf "%s/ca.crt" $dir | quote }}
- name: EDGESPLIT_TLS_REQUIRE_CLIENT_CERT
  value: {{ $require | toString | quote }}
{{- with $.Values.tls.serverName }}
- name: EDGESPLIT_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "edgesplit.tlsVolume" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    # 0440 (decimal, so every YAML parser reads it alike): owner and the pod's fsGroup may read.
    defaultMode: 288
{{- end }}
{{- end }}

{{- define "edgesplit.tlsVolumeMount" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: {{ include "edgesplit.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Environment of a partition container (static mode and the planner's template). Partitions always require client certificates under TLS. */}}
{{- define "edgesplit.partitionEnv" -}}
- name: EDGESPLIT_INTRA_OP_THREADS
  value: {{ .Values.partition.intraOpThreads | quote }}
- name: EDGESPLIT_HOST
  value: "0.0.0.0"
{{- with include "edgesplit.tlsEnv" (list . true) }}
{{ . | trim }}
{{- end }}
{{ include "edgesplit.otelEnv" (list . "partition") | trim }}
{{- with .Values.partition.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "edgesplit.partitionVolumes" -}}
{{ include "edgesplit.tmpVolume" . }}
{{- with include "edgesplit.tlsVolume" . }}
{{ . | trim }}
{{- end }}
{{- end }}

{{- define "edgesplit.partitionVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with include "edgesplit.tlsVolumeMount" . }}
{{ . | trim }}
{{- end }}
{{- end }}

{{/* Static mode: host:port of every partition Service, in partition order. */}}
{{- define "edgesplit.staticPeers" -}}
{{- $peers := list }}
{{- range $i, $p := .Values.static.partitions }}
{{- $peers = append $peers (printf "%s.%s.svc:%d" (include "edgesplit.partitionName" (list $ $i)) $.Release.Namespace ($.Values.partition.port | int)) }}
{{- end }}
{{- join "," $peers }}
{{- end }}

{{/*
preStop sleep of N seconds (0: none): a terminating pod keeps serving until kube-proxy has stopped sending it new
connections. `sleep` is in the image (Debian coreutils); the exec form works on every Kubernetes version.
*/}}
{{- define "edgesplit.preStop" -}}
{{- if gt (int .) 0 }}
preStop:
  exec:
    command: ["sleep", {{ . | toString | quote }}]
{{- end }}
{{- end }}
