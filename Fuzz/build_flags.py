#!/usr/bin/env python3
"""Prints what scripts/fuzz.sh needs from SwiftPM's debug build of this package (.build/debug.yaml):
  flags   the -Xcc module-map flags SwiftPM passes when compiling SyncEngine (C modules of NIO, BoringSSL...)
  objects the object files of the executable's dependencies, minus the modules fuzz.sh recompiles
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWN = ("AWSClient.build", "KubeClient.build", "SyncEngine.build", "ECRCredHelper.build")

def module_args(name):
    path = os.path.join(ROOT, ".build", "debug.yaml")
    key = '"C.%s-' % name
    with open(path) as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(key) and line.strip().endswith('-debug.module":'):
            for follow in lines[i + 1:i + 12]:
                if follow.strip().startswith("args:"):
                    return json.loads(follow.strip()[len("args:"):])
    sys.exit("no compile command for %s in .build/debug.yaml: run swift build first" % name)

mode = sys.argv[1]
if mode == "flags":
    args = module_args("SyncEngine")
    out, i = [], 0
    while i < len(args):
        if args[i] == "-Xcc":
            out += args[i:i + 2]
            i += 2
        else:
            i += 1
    print("\n".join(out))
elif mode == "objects":
    listing = os.path.join(ROOT, ".build", "debug", "aws-ecr-cred-helper.product", "Objects.LinkFileList")
    with open(listing) as f:
        for line in f:
            line = line.strip().strip('"').strip("'")
            if line and not any(("/%s/" % own) in line for own in OWN):
                print(line)
