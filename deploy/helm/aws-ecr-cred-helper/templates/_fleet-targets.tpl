{{/*
Fleet targets (docs/fleet.md): the clusters this helper serves besides (or instead of) its own.
- fleetTargets.clustersSecret: a Secret of kubeconfig files (one key per cluster), mounted at /clusters
  and read as CLUSTERS_DIR; Kubernetes swaps the files on update and the helper re-reads them.
- fleetTargets.clusterSecretSelector: a label selector for kubeconfig Secrets (Cluster API, Argo CD or
  plain) in the release namespace, read as CLUSTER_SECRET_SELECTOR (needs the Role in fleet-targets.yaml).
The scale-out side of fleet mode (fleet.enabled, replicas, membership Leases) lives in its own templates.
*/}}
{{- define "ecrhelper.fleetTargets.env" -}}
{{- with .Values.fleetTargets }}
{{- if .clustersSecret }}
- name: CLUSTERS_DIR
  value: /clusters
{{- end }}
{{- with .clusterSecretSelector }}
- name: CLUSTER_SECRET_SELECTOR
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ecrhelper.fleetTargets.volumeMounts" -}}
{{- if .Values.fleetTargets.clustersSecret }}
- name: clusters
  mountPath: /clusters
  readOnly: true
{{- end }}
{{- end }}

{{- define "ecrhelper.fleetTargets.volumes" -}}
{{- with .Values.fleetTargets.clustersSecret }}
- name: clusters
  secret:
    secretName: {{ . }}
    defaultMode: 288  # 0440: readable by fsGroup, by no one else
{{- end }}
{{- end }}
