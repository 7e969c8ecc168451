/// Kubeconfigs as the usual tools write them (certificate data shortened), plus hand-edited ones.
enum KubeconfigFixtures {
    static let kind = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
            server: https://127.0.0.1:36283
          name: kind-kind
        contexts:
        - context:
            cluster: kind-kind
            user: kind-kind
          name: kind-kind
        current-context: kind-kind
        kind: Config
        preferences: {}
        users:
        - name: kind-kind
          user:
            client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURJVENDQWdtZ0F3SUJBZ0lJCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
            client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBCi0tLS0tRU5EIFJTQSBQUklWQVRFIEtFWS0tLS0tCg==

        """

    static let k3s = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
            server: https://127.0.0.1:6443
          name: default
        contexts:
        - context:
            cluster: default
            user: default
          name: default
        current-context: default
        kind: Config
        preferences: {}
        users:
        - name: default
          user:
            client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
            client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUVzCi0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZLS0tLS0K

        """

    static let minikube = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority: /home/user/.minikube/ca.crt
            extensions:
            - extension:
                last-update: Mon, 01 Jan 2024 10:00:00 UTC
                provider: minikube.sigs.k8s.io
                version: v1.32.0
              name: cluster_info
            server: https://192.168.49.2:8443
          name: minikube
        contexts:
        - context:
            cluster: minikube
            extensions:
            - extension:
                last-update: Mon, 01 Jan 2024 10:00:00 UTC
                provider: minikube.sigs.k8s.io
                version: v1.32.0
              name: context_info
            namespace: default
            user: minikube
          name: minikube
        current-context: minikube
        kind: Config
        preferences: {}
        users:
        - name: minikube
          user:
            client-certificate: /home/user/.minikube/profiles/minikube/client.crt
            client-key: /home/user/.minikube/profiles/minikube/client.key

        """

    /// Hand-edited: comments everywhere, indented sequences, quoted values, blank lines, a document marker.
    static let handEdited = """
        # Our clusters. Edited by hand; keep the comments.
        ---
        apiVersion: "v1"
        kind: 'Config'
        current-context: "team-a@prod"   # the default

        clusters:
          # production, behind the VPN
          - name: prod
            cluster:
              server: "https://[fd00::10]:6443"
              certificate-authority: certs/prod-ca.pem
              tls-server-name: kubernetes.default.svc
          - name: staging
            cluster: {server: 'https://staging.example.com', insecure-skip-tls-verify: true}

        contexts:
          - name: team-a@prod
            context:
              cluster: prod
              user: "ci-bot"
              namespace: team-a # comment after a value
          - name: "staging"
            context: {cluster: staging, user: ci-bot}

        users:
          - name: ci-bot
            user:
              token: "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.payload#with:colons"
              # tokenFile: /var/run/secrets/token
          - name: 'it''s-me'
            user:
              username: admin
              password: "p@ss: word"
        ...

        """

    /// What `kubectl config view --raw -o json` prints.
    static let json = """
        {
            "kind": "Config",
            "apiVersion": "v1",
            "preferences": {},
            "clusters": [
                {
                    "name": "docker-desktop",
                    "cluster": {
                        "server": "https://kubernetes.docker.internal:6443",
                        "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
                    }
                }
            ],
            "users": [
                {
                    "name": "docker-desktop",
                    "user": {
                        "token": "abc.def.ghi"
                    }
                }
            ],
            "contexts": [
                {
                    "name": "docker-desktop",
                    "context": {
                        "cluster": "docker-desktop",
                        "user": "docker-desktop",
                        "namespace": "kube-system"
                    }
                }
            ],
            "current-context": "docker-desktop"
        }

        """

    /// EKS-style exec plugin with args and env.
    static let exec = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
            server: https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
          name: arn:aws:eks:us-east-1:123456789012:cluster/demo
        contexts:
        - context:
            cluster: arn:aws:eks:us-east-1:123456789012:cluster/demo
            user: arn:aws:eks:us-east-1:123456789012:cluster/demo
          name: demo
        current-context: demo
        kind: Config
        preferences: {}
        users:
        - name: arn:aws:eks:us-east-1:123456789012:cluster/demo
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              args:
              - --region
              - us-east-1
              - eks
              - get-token
              - --cluster-name
              - demo
              command: aws
              env:
              - name: AWS_PROFILE
                value: "prod"
              interactiveMode: IfAvailable
              provideClusterInfo: false

        """

    /// Windows line endings.
    static let crlf = "apiVersion: v1\r\nclusters:\r\n- cluster:\r\n    server: https://10.0.0.1:6443\r\n  name: c\r\ncurrent-context: x\r\n"

    static let all: [(name: String, text: String)] = [
        ("kind", kind), ("k3s", k3s), ("minikube", minikube), ("handEdited", handEdited), ("json", json), ("exec", exec), ("crlf", crlf),
    ]
}
