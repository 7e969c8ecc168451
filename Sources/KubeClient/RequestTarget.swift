/// What a request is about, for errors and logs.
struct RequestTarget: Sendable {
    var verb: String
    var resource: String
    var group: String
    var namespace: String?
    var name: String?

    init(verb: String, resource: String, group: String, namespace: String?, name: String?) {
        self.verb = verb
        self.resource = resource
        self.group = group
        self.namespace = namespace
        self.name = name
    }

    init<R: KubeResource>(_ type: R.Type, verb: String, namespace: String?, name: String?) {
        self.init(verb: verb, resource: R.plural, group: R.group, namespace: R.isNamespaced ? namespace : nil, name: name)
    }
}
