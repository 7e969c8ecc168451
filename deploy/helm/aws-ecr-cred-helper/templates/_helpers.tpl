{{/* Chart name. */}}
{{- define "ecrhelper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "ecrhelper.fullname" -}}
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

{{- define "ecrhelper.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ecrhelper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ecrhelper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecrhelper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ecrhelper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecrhelper.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ecrhelper.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* A list value may also be given as one space/comma separated string. */}}
{{- define "ecrhelper.join" -}}
{{- if kindIs "slice" . }}{{ join " " . }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/* "true" when namespaces must be listed and watched: globs, a label selector, or asked for. */}}
{{- define "ecrhelper.namespaceWatch" -}}
{{- $ns := include "ecrhelper.join" .Values.config.namespaces }}
{{- if or .Values.rbac.namespaceWatch .Values.config.namespaceSelector (regexMatch "[*?]" $ns) }}true{{ end }}
{{- end }}

{{/* Replicas of the Deployment: fleet.replicas in fleet mode (when set), else replicaCount. */}}
{{- define "ecrhelper.replicas" -}}
{{- if and .Values.fleet.enabled (not (kindIs "invalid" .Values.fleet.replicas)) }}{{ int .Values.fleet.replicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* Leader election: never in fleet mode, where every replica serves its share of the clusters. */}}
{{- define "ecrhelper.leaderElection" -}}
{{- if and (not .Values.fleet.enabled) (or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1)) }}true{{ end }}
{{- end }}

{{/* The group label value of the fleet membership Leases. */}}
{{- define "ecrhelper.fleetGroup" -}}
{{- default (include "ecrhelper.fullname" .) .Values.fleet.group | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecrhelper.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{- define "ecrhelper.allowDelete" -}}
{{- if or .Values.rbac.allowCleanup .Values.cleanupOnUninstall .Values.config.pruneUnselected }}true{{ end }}
{{- end }}

{{- define "ecrhelper.httpEnabled" -}}
{{- if gt (int .Values.config.httpPort) 0 }}true{{ end }}
{{- end }}

{{/* Name of the Secret mounted at /config-aws, empty when there is none (web identity without keys). */}}
{{/* The kubernetes.io/tls Secret of IAM Roles Anywhere: the user's, or the one the chart's Certificate fills. */}}
{{- define "ecrhelper.rolesAnywhereSecret" -}}
{{- .Values.aws.rolesAnywhere.existingSecret | default (printf "%s-roles-anywhere" (include "ecrhelper.fullname" .)) }}
{{- end }}

{{- define "ecrhelper.credentialsSecret" -}}
{{- if .Values.aws.credentials.existingSecret }}
{{- .Values.aws.credentials.existingSecret }}
{{- else if .Values.aws.credentials.accessKeyId }}
{{- printf "%s-aws" (include "ecrhelper.fullname" .) }}
{{- end }}
{{- end }}

{{/* The helper's environment: every setting of values.yaml, and the downward API. */}}
{{- define "ecrhelper.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- with .Values.config }}
- name: NAMESPACES
  value: {{ include "ecrhelper.join" .namespaces | quote }}
{{- with (include "ecrhelper.join" .excludeNamespaces) }}
- name: EXCLUDE_NAMESPACES
  value: {{ . | quote }}
{{- end }}
{{- with .namespaceSelector }}
- name: NAMESPACE_SELECTOR
  value: {{ . | quote }}
{{- end }}
- name: SECRET_NAME
  value: {{ required "config.secretName is required" .secretName | quote }}
{{- end }}
- name: INSTANCE
  value: {{ .Values.config.instance | default (printf "%s/%s" .Release.Namespace .Release.Name) | quote }}
{{- with .Values.config }}
{{- with .refreshInterval }}
- name: REFRESH_INTERVAL
  value: {{ . | quote }}
{{- end }}
{{- with .refreshMargin }}
- name: REFRESH_MARGIN
  value: {{ . | quote }}
{{- end }}
{{- with .refreshFraction }}
- name: REFRESH_FRACTION
  value: {{ . | quote }}
{{- end }}
{{- with .resyncInterval }}
- name: RESYNC_INTERVAL
  value: {{ . | quote }}
{{- end }}
{{- with .concurrency }}
- name: CONCURRENCY
  value: {{ . | quote }}
{{- end }}
- name: PRUNE_UNSELECTED
  value: {{ .pruneUnselected | toString | quote }}
- name: PATCH_SERVICE_ACCOUNTS
  value: {{ .patchServiceAccounts | toString | quote }}
- name: SERVICE_ACCOUNTS
  value: {{ include "ecrhelper.join" .serviceAccounts | quote }}
- name: LOG_LEVEL
  value: {{ .logLevel | quote }}
- name: LOG_FORMAT
  value: {{ .logFormat | quote }}
- name: HTTP_PORT
  value: {{ .httpPort | toString | quote }}
{{- if .metricsPerNamespace }}
- name: METRICS_PER_NAMESPACE
  value: "true"
{{- end }}
{{- end }}
- name: LEADER_ELECTION
  value: {{ include "ecrhelper.leaderElection" . | default "false" | quote }}
{{- if include "ecrhelper.leaderElection" . }}
- name: LEADER_ELECTION_NAMESPACE
  value: {{ include "ecrhelper.leaseNamespace" . | quote }}
- name: LEADER_ELECTION_LEASE_NAME
  value: {{ .Values.leaderElection.leaseName | quote }}
- name: LEADER_ELECTION_LEASE_DURATION
  value: {{ .Values.leaderElection.leaseDuration | quote }}
- name: LEADER_ELECTION_RENEW_DEADLINE
  value: {{ .Values.leaderElection.renewDeadline | quote }}
{{- end }}
{{- if .Values.fleet.enabled }}
- name: FLEET_GROUP
  value: {{ include "ecrhelper.fleetGroup" . | quote }}
{{- end }}
{{- with .Values.aws }}
{{- with .region }}
- name: AWS_DEFAULT_REGION
  value: {{ . | quote }}
{{- end }}
{{- with (include "ecrhelper.join" .regions) }}
- name: AWS_REGIONS
  value: {{ . | quote }}
{{- end }}
{{- with (include "ecrhelper.join" .registryIds) }}
- name: REGISTRY_IDS
  value: {{ . | quote }}
{{- end }}
{{- with .roleArn }}
- name: AWS_ROLE_ARN
  value: {{ . | quote }}
{{- end }}
{{- with .externalId }}
- name: AWS_EXTERNAL_ID
  value: {{ . | quote }}
{{- end }}
{{- with .roleSessionName }}
- name: AWS_ROLE_SESSION_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .useFipsEndpoint }}
- name: AWS_USE_FIPS_ENDPOINT
  value: "true"
{{- end }}
{{- with .endpointUrl }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with .endpointUrlEcr }}
- name: AWS_ENDPOINT_URL_ECR
  value: {{ . | quote }}
{{- end }}
{{- with .endpointUrlSts }}
- name: AWS_ENDPOINT_URL_STS
  value: {{ . | quote }}
{{- end }}
{{- if .caBundle.configMap }}
- name: AWS_CA_BUNDLE
  value: /etc/aws-ca/{{ .caBundle.key }}
{{- end }}
{{- if .webIdentity.enabled }}
- name: AWS_WEB_IDENTITY_TOKEN_FILE
  value: {{ printf "%s/token" .webIdentity.mountPath | quote }}
{{- end }}
{{- if .rolesAnywhere.enabled }}
- name: AWS_ROLES_ANYWHERE_CERTIFICATE
  value: {{ printf "%s/tls.crt" .rolesAnywhere.mountPath | quote }}
- name: AWS_ROLES_ANYWHERE_PRIVATE_KEY
  value: {{ printf "%s/tls.key" .rolesAnywhere.mountPath | quote }}
- name: AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN
  value: {{ .rolesAnywhere.trustAnchorArn | quote }}
- name: AWS_ROLES_ANYWHERE_PROFILE_ARN
  value: {{ .rolesAnywhere.profileArn | quote }}
{{- with .rolesAnywhere.sessionDuration }}
- name: AWS_ROLES_ANYWHERE_SESSION_DURATION
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.proxy.httpsProxy }}
- name: HTTPS_PROXY
  value: {{ . | quote }}
- name: NO_PROXY
  value: {{ list $.Values.proxy.noProxy "$(KUBERNETES_SERVICE_HOST)" "kubernetes.default.svc" ".svc" ".cluster.local" | compact | join "," | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- include "ecrhelper.fleetTargets.env" . }}
{{- end }}

{{- define "ecrhelper.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "ecrhelper.credentialsSecret" . }}
- name: config-aws
  mountPath: /config-aws
  readOnly: true
{{- end }}
{{- if .Values.aws.webIdentity.enabled }}
- name: aws-web-identity-token
  mountPath: {{ .Values.aws.webIdentity.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.aws.rolesAnywhere.enabled }}
- name: aws-roles-anywhere
  mountPath: {{ .Values.aws.rolesAnywhere.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.aws.caBundle.configMap }}
- name: aws-ca
  mountPath: /etc/aws-ca
  readOnly: true
{{- end }}
{{- include "ecrhelper.fleetTargets.volumeMounts" . }}
{{- end }}

{{- define "ecrhelper.volumes" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- with (include "ecrhelper.credentialsSecret" .) }}
- name: config-aws
  secret:
    secretName: {{ . }}
    defaultMode: 288  # 0440: readable by fsGroup
{{- end }}
{{- if .Values.aws.webIdentity.enabled }}
- name: aws-web-identity-token
  projected:
    defaultMode: 288  # 0440
    sources:
      - serviceAccountToken:
          audience: {{ .Values.aws.webIdentity.audience | quote }}
          expirationSeconds: {{ int .Values.aws.webIdentity.expirationSeconds }}
          path: token
{{- end }}
{{- if .Values.aws.rolesAnywhere.enabled }}
# The certificate Secret as a folder: cert-manager's renewals replace the files in place.
- name: aws-roles-anywhere
  secret:
    secretName: {{ include "ecrhelper.rolesAnywhereSecret" . }}
    defaultMode: 288  # 0440: readable by fsGroup
{{- end }}
{{- with .Values.aws.caBundle.configMap }}
- name: aws-ca
  configMap:
    name: {{ . }}
{{- end }}
{{- include "ecrhelper.fleetTargets.volumes" . }}
{{- end }}

{{/* Fails the render on settings that cannot work, naming the fix. */}}
{{- define "ecrhelper.validate" -}}
{{- if and .Values.aws.webIdentity.enabled (not .Values.aws.roleArn) }}
{{- fail "aws.webIdentity.enabled needs aws.roleArn (the IAM role trusted by your cluster's OIDC provider)" }}
{{- end }}
{{- with .Values.aws.rolesAnywhere }}
{{- if .enabled }}
{{- if not (and $.Values.aws.roleArn .trustAnchorArn .profileArn) }}
{{- fail "aws.rolesAnywhere.enabled needs aws.roleArn, aws.rolesAnywhere.trustAnchorArn and aws.rolesAnywhere.profileArn" }}
{{- end }}
{{- if and (not .existingSecret) (not .certificate.issuerRef.name) }}
{{- fail "aws.rolesAnywhere.enabled needs aws.rolesAnywhere.certificate.issuerRef (the cert-manager issuer whose CA the trust anchor holds) or aws.rolesAnywhere.existingSecret (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if or $.Values.aws.webIdentity.enabled $.Values.aws.credentials.existingSecret $.Values.aws.credentials.accessKeyId }}
{{- fail "aws.rolesAnywhere.enabled is one way to AWS: turn off aws.webIdentity and leave aws.credentials empty" }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (not .Values.aws.webIdentity.enabled) (not .Values.aws.rolesAnywhere.enabled) (not .Values.aws.credentials.existingSecret) (not .Values.aws.credentials.accessKeyId) }}
{{- fail "no AWS credentials: set aws.credentials.existingSecret (a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), aws.credentials.accessKeyId/secretAccessKey, aws.webIdentity.enabled with aws.roleArn, or aws.rolesAnywhere.enabled" }}
{{- end }}
{{- if and .Values.aws.credentials.accessKeyId (not .Values.aws.credentials.secretAccessKey) }}
{{- fail "aws.credentials.accessKeyId is set without aws.credentials.secretAccessKey" }}
{{- end }}
{{- if not (or .Values.aws.region .Values.aws.regions .Values.aws.credentials.existingSecret) }}
{{- fail "no AWS region: set aws.region or aws.regions (or AWS_DEFAULT_REGION in aws.credentials.existingSecret)" }}
{{- end }}
{{- if and (not (include "ecrhelper.join" .Values.config.namespaces)) (not .Values.config.namespaceSelector) }}
{{- fail "config.namespaces is empty and config.namespaceSelector is not set: list namespaces, globs or \"*\"" }}
{{- end }}
{{- end }}

{{/* Node mode's DaemonSet: its own name label, so the controller's Service, PodDisruptionBudget and
NetworkPolicy (which select the chart's selector labels) never select its pods. */}}
{{- define "ecrhelper.nodeSelectorLabels" -}}
app.kubernetes.io/name: {{ include "ecrhelper.name" . }}-node
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ecrhelper.nodeLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ecrhelper.nodeSelectorLabels" . }}
app.kubernetes.io/component: node-credential-provider
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
