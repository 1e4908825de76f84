"""Checks template.yaml: SAM translation, cfn-lint on the translated CloudFormation, and that each function's
role grants exactly the IAM actions its code declares (`ecr-warden permissions FUNCTION`), with `Resource: "*"`
only for the actions that need it. Usage: check_template.py TEMPLATE ECR_WARDEN_BINARY"""
import copy
import itertools
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator wants a region; any will do

template_path, ecr_warden = pathlib.Path(sys.argv[1]), sys.argv[2]
functions_dir = template_path.parent / "functions"
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


class NoManagedPolicies:
    """The template names no managed policy by name, so nothing needs looking up in IAM."""

    def load(self):
        return {}


sam = yaml_parse(template_path.read_text())
functions = {name: r for name, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
translatable = copy.deepcopy(sam)
for name in functions:
    # `sam build` uploads the code; the translator only accepts S3 locations, as `sam validate` knows.
    translatable["Resources"][name]["Properties"]["CodeUri"] = "s3://bucket/code.zip"
cfn = transform(translatable, {}, NoManagedPolicies())
with tempfile.TemporaryDirectory() as tmp:
    translated = pathlib.Path(tmp) / "template.json"
    translated.write_text(json.dumps(cfn, indent=1))
    lint = subprocess.run(["cfn-lint", "--", str(translated)], capture_output=True, text=True)
    check("cfn-lint on the SAM-translated template", lint.returncode == 0, lint.stdout + lint.stderr)

# What SAM attaches by itself: CloudWatch Logs, X-Ray (Tracing: Active), and reading an SQS event source.
MANAGED = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSLambdaSQSQueueExecutionRole"}
binaries = {r["Metadata"]["BuildProperties"]["Binary"]: name for name, r in functions.items()}
crates = {p.name for p in functions_dir.iterdir() if (p / "Cargo.toml").exists()}
check("every function crate is in the template", crates == set(binaries), f"crates {sorted(crates)}, template {sorted(binaries)}")

# Some actions are granted only when a template parameter turns their feature on (a registry-wide write, a
# second service): each role is checked both ways, against the code's actions with and without them.
CONDITIONS = {
    "ReplicationGoverned": "replication",
    "RegistryPolicyGoverned": "registry_policy",
    "CreationTemplatesGoverned": "creation_templates",
    "CreationTemplateRoleGiven": "creation_template_role",
    "SigningGoverned": "signing",
    "ImagesInUseChecked": "images_in_use",
    "SecurityHubExport": "security_hub",
    "RegistryScanningGoverned": "registry_scanning",
    "EnhancedScanningUsed": "enhanced_scanning",
    "TaggingApiUsed": "tagging_api",
    "BaselineKeyGiven": "baseline_key",
    "OrganizationMode": "organization",
}
# The services whose actions the code declares (every other action in a role fails the check as extra... unless it
# is one SAM adds, which the managed-policy check covers).
OUR_SERVICES = (
    "ecr", "ssm", "sns", "events", "inspector2", "sqs", "securityhub", "iam", "tag", "kms", "sts", "organizations", "ecs",
    "lambda",
)
# The service each service-linked role statement may name (`ecr-warden permissions --policy` says the same).
SERVICE_LINKED = {"inspector2.amazonaws.com", "replication.ecr.amazonaws.com"}


def statements_when(statements, enabled):
    """The statements in force with every optional feature on (enabled) or off: an `Fn::If` picks one."""
    for statement in statements:
        if "Fn::If" in statement:
            condition, when_true, when_false = statement["Fn::If"]
            check("conditional statements depend on a feature condition", condition in CONDITIONS, condition)
            statement = when_true if enabled else when_false
            if statement == {"Ref": "AWS::NoValue"}:
                continue
        yield statement


def declared_actions(grantee, governed):
    """What `ecr-warden permissions GRANTEE` declares: every action (those of the optional features left out unless
    `governed`), and those that need `Resource: "*"`."""
    declared = json.loads(subprocess.run([ecr_warden, "permissions", grantee], capture_output=True, text=True, check=True).stdout)
    actions = set(declared["actions"])
    if not governed:
        actions -= {a for optional in declared["optional"].values() for a in optional}
    return actions, set(declared["registry_wide"])


def grants(label, statements, governed, key_region):
    """The actions of ours `statements` grant (with every optional feature on or off), and those granted on `*`;
    checks each statement on the way: allow only, service-linked roles by name, the baseline key through SSM,
    only the member role assumed, keys described in `key_region` (`${AWS::Region}` or `*`)."""
    granted, wide = set(), set()
    for statement in statements_when(statements, governed):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        ours = [a for a in actions if a.split(":")[0] in OUR_SERVICES]
        if "iam:CreateServiceLinkedRole" in actions:
            service = statement.get("Condition", {}).get("StringEquals", {}).get("iam:AWSServiceName")
            check(f"{label}: service-linked roles only for a named service", actions == ["iam:CreateServiceLinkedRole"]
                  and service in SERVICE_LINKED, str(statement))
        if "kms:Decrypt" in actions:
            via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
            check(f"{label}: KMS decrypts only the baseline key, through SSM", actions == ["kms:Decrypt"]
                  and statement.get("Resource") == {"Ref": "BaselineKmsKeyArn"} and via is not None, str(statement))
        if "sts:AssumeRole" in actions:
            check(f"{label}: only the member role is assumed, in any account", actions == ["sts:AssumeRole"]
                  and statement.get("Resource") == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"},
                  str(statement))
        if "iam:PassRole" in actions:
            passed_to = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
            check(f"{label}: only the creation template role is passed, only to ECR", actions == ["iam:PassRole"]
                  and statement.get("Resource") == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${CreationTemplateRoleName}"}
                  and passed_to == "ecr.amazonaws.com", str(statement))
        if "kms:DescribeKey" in actions:
            check(f"{label}: keys are described only in {key_region}", actions == ["kms:DescribeKey"]
                  and statement.get("Resource") == {"Fn::Sub": f"arn:${{AWS::Partition}}:kms:{key_region}:*:key/*"},
                  str(statement))
        granted.update(ours)
        if statement.get("Resource") == "*":
            wide.update(ours)
        check(f"{label}: statements allow, never deny or use NotAction", statement["Effect"] == "Allow" and "NotAction" not in statement)
    return granted, wide


def check_exactly(label, granted, wide, want, registry_wide):
    """The role grants exactly `want`, and `*` only for actions that need it."""
    check(f"{label}: the role grants exactly what the code calls", granted == want,
          f"missing {sorted(want - granted)}, extra {sorted(granted - want)}")
    check(f"{label}: Resource '*' only where the action needs it", wide <= registry_wide,
          f"scope these to repository ARNs: {sorted(wide - registry_wide)}")


for (binary, logical_id), governed in [(b, g) for b in sorted(binaries.items()) for g in (True, False)]:
    want, registry_wide = declared_actions(binary, governed)
    binary = f"{binary} ({'all optional features' if governed else 'no optional feature'})"
    role = cfn["Resources"][f"{logical_id}Role"]["Properties"]
    granted, wide = set(), set()
    managed = {arn.rsplit("/", 1)[-1] for arn in role.get("ManagedPolicyArns", [])}
    check(f"{binary}: only SAM's logging, tracing and SQS-polling managed policies", managed <= MANAGED, f"{sorted(managed - MANAGED)}")
    for policy in role.get("Policies", []):
        if policy["PolicyName"].endswith("EventInvokeConfigOnFailureSQSPolicy"):
            # Added by SAM for the on-failure destination: it may only send to the failed-events queue.
            statements = policy["PolicyDocument"]["Statement"]
            check(f"{binary}: SAM's on-failure policy only sends to the failed-events queue",
                  all(s["Action"] == "sqs:SendMessage" or s["Action"] == ["sqs:SendMessage"] for s in statements)
                  and all(s["Resource"] == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]} for s in statements), str(statements))
            continue
        policy_granted, policy_wide = grants(binary, policy["PolicyDocument"]["Statement"], governed, "${AWS::Region}")
        granted |= policy_granted
        wide |= policy_wide
    check_exactly(binary, granted, wide, want, registry_wide)

# The CloudTrail rule takes exactly the calls the repository-events function governs (event/mod.rs).
import re as _re
event_rs = (template_path.parent / "shared/runtime/src/event/mod.rs").read_text()
code_calls = set()
body = _re.search(r"GOVERNED_CALLS: &\[&str\] =\s*&\[(.*?)\];", event_rs, _re.S)
check("the routing module declares GOVERNED_CALLS", body is not None)
code_calls.update(_re.findall(r'"([A-Za-z]+)"', body.group(1) if body else ""))
# ... and the calls that change a registry-wide setting, as each control's description names them.
code_calls.update(c for control in json.loads(subprocess.run([ecr_warden, "explain", "--output", "json"],
                  capture_output=True, text=True, check=True).stdout) for c in control.get("changed_by", []))
rule = sam["Resources"]["RepositoryEventsFunction"]["Properties"]["Events"]["RepositoryApiCalls"]["Properties"]
rule_calls = set(rule["Pattern"]["detail"]["eventName"])
check("the CloudTrail rule takes exactly the calls the code governs", rule_calls == code_calls,
      f"rule only {sorted(rule_calls - code_calls)}, code only {sorted(code_calls - rule_calls)}")
replicated = sam["Resources"]["RepositoryEventsFunction"]["Properties"]["Events"]["ReplicatedRepositories"]["Properties"]
cached = sam["Resources"]["RepositoryEventsFunction"]["Properties"]["Events"]["CachedRepositories"]["Properties"]
check("the pull through cache rule takes successful syncs only",
      cached["Pattern"].get("detail", {}).get("sync-status") == ["SUCCESS"], str(cached["Pattern"]))
check("the replication rule takes successful replications only",
      replicated["Pattern"].get("detail", {}).get("result") == ["SUCCESS"], str(replicated["Pattern"]))

# Operations: the dashboard and the alarms name only metrics the functions print (the README's Metrics table),
# controls that exist, and resources in the template; every alarm notifies the alarm topic.
import re

readme = (template_path.parent / "README.md").read_text()
metrics_table = readme.split("### Metrics", 1)[1].split("\n#", 1)[0]
documented = {name for row in metrics_table.splitlines() if row.startswith("| `")
              for name in re.findall(r"`([A-Za-z]+)`", row.split("|")[1])}
controls = {c["control"] for c in json.loads(subprocess.run([ecr_warden, "explain", "--output", "json"],
                                                             capture_output=True, text=True, check=True).stdout)}
resources = sam["Resources"]


def check_metric(where, namespace, name, dimensions):
    """dimensions: {name: value}, a value being a resource's logical id or a literal."""
    if namespace == "ecr-warden":
        check(f"{where}: {name} is a documented ecr-warden metric", name in documented, f"documented: {sorted(documented)}")
        check(f"{where}: {name} has the Function dimension of a function", dimensions.get("Function") in functions, str(dimensions))
        if "Control" in dimensions:
            check(f"{where}: control {dimensions['Control']} exists", dimensions["Control"] in controls)
    elif namespace == "AWS/Lambda":
        check(f"{where}: Lambda metric of a function", dimensions.get("FunctionName") in functions, str(dimensions))
    elif namespace == "AWS/SQS":
        check(f"{where}: SQS metric of a queue", resources.get(dimensions.get("QueueName"), {}).get("Type") == "AWS::SQS::Queue", str(dimensions))
    else:
        check(f"{where}: namespace {namespace} is expected", False)


def branches(value):
    """The values a dimension may take: both sides of an `!If`, or the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1:]
    return [value]


def logical_id(value):
    """`!Ref X` or `!GetAtt X.QueueName` -> X; a literal stays as it is."""
    if isinstance(value, dict):
        ref = value.get("Ref") or value.get("Fn::GetAtt")
        return ref[0] if isinstance(ref, list) else str(ref).split(".")[0]
    return value


dashboard = resources["Dashboard"]
check("the dashboard is behind CreateDashboard", dashboard.get("Condition") == "DashboardCreated")
body_template, body_variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
body = json.loads(re.sub(r"\$\{([A-Za-z]+)(\.[A-Za-z]+)?\}", r"\1", body_template.replace("${AWS::Region}", "us-east-1")))
for widget in body["widgets"]:
    for metric in widget["properties"]["metrics"]:
        namespace, name, *pairs = metric
        dimensions = dict(zip(pairs[::2], pairs[1::2]))
        # A `${Variable}` of the Sub's own map stands for each value it may take.
        named = {key: [logical_id(v) for v in branches(body_variables[value])] if value in body_variables else [value]
                 for key, value in dimensions.items()}
        for choice in [dict(zip(named, values)) for values in itertools.product(*named.values())]:
            check_metric(f"dashboard '{widget['properties']['title']}'", namespace, name, choice)
check("the dashboard's nightly-audit violations are the workers' in organization mode",
      body_variables.get("AuditFunction") == {"Fn::If": ["OrganizationMode", {"Ref": "BackfillWorkerFunction"},
                                                         {"Ref": "BackfillFunction"}]}, str(body_variables))

alarms = {n: r for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
check("three alarms: function errors, dead-letter queues, violations", set(alarms) == {"FunctionErrorsAlarm", "DeadLetterAlarm", "ViolationsAlarm"}, str(sorted(alarms)))
for name, alarm in alarms.items():
    props = alarm["Properties"]
    check(f"{name} is behind CreateAlarms", alarm.get("Condition") == "AlarmsCreated")
    check(f"{name} notifies the alarm topic", props["AlarmActions"] == [{"Ref": "AlarmTopic"}] == props["OKActions"])
    queries = props["Metrics"]
    expressions = [q for q in queries if "Expression" in q]
    stats = {q["Id"]: q["MetricStat"] for q in queries if "MetricStat" in q}
    check(f"{name}: one expression over its metrics", len(expressions) == 1
          and set(re.findall(r"[a-z_]+", expressions[0]["Expression"].split("(", 1)[1])) == set(stats), str(expressions))
    check(f"{name}: only the expression is returned", all(q.get("ReturnData") is False for q in queries if "MetricStat" in q))
    check(f"{name}: its metrics share one period", len({s["Period"] for s in stats.values()}) == 1)
    for stat in stats.values():
        metric = stat["Metric"]
        for side in (0, -1):
            dimensions = {d["Name"]: logical_id(branches(d["Value"])[side]) for d in metric["Dimensions"]}
            check_metric(name, metric["Namespace"], metric["MetricName"], dimensions)
audit_functions = {str(d["Value"]) for q in alarms["ViolationsAlarm"]["Properties"]["Metrics"] if "MetricStat" in q
                   for d in q["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Function"}
check("the violations alarm counts the workers' audit in organization mode, the backfill function's otherwise",
      audit_functions == {str({"Fn::If": ["OrganizationMode", {"Ref": "BackfillWorkerFunction"}, {"Ref": "BackfillFunction"}]})},
      str(audit_functions))
violation_controls = {d["Value"] for q in alarms["ViolationsAlarm"]["Properties"]["Metrics"] if "MetricStat" in q
                      for d in q["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Control"}
REGISTRY_LEVEL = {"replication", "registry-policy", "creation-templates", "pull-through-cache", "signing"}
check("the violations alarm covers every repository control", violation_controls == controls - REGISTRY_LEVEL,
      f"{sorted(controls - REGISTRY_LEVEL - violation_controls)} missing")
check("the alarm topic is not the alert topic's managed key (CloudWatch can't use aws/sns)",
      "KmsMasterKeyId" not in resources["AlarmTopic"]["Properties"])

# Dead letters: every EventBridge rule sends what it can't deliver to the one watched failed-events queue, and
# that queue's policy lets EventBridge in for exactly this stack's rules. (SAM's `DeadLetterConfig: Type: SQS`
# would make an unwatched queue per rule.)
translated = cfn["Resources"]
rules = {n: r for n, r in translated.items() if r["Type"] == "AWS::Events::Rule"}
queues = {n for n, r in translated.items() if r["Type"] == "AWS::SQS::Queue"}
check("only the stack's own queues: failed events, work, work dead letters",
      queues == {"FailedEventsQueue", "WorkQueue", "WorkDeadLetterQueue"}, str(sorted(queues)))
for name, rule in rules.items():
    targets = rule["Properties"]["Targets"]
    check(f"{name}: undeliverable events go to the failed-events queue",
          all(t.get("DeadLetterConfig", {}).get("Arn") == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]} for t in targets),
          str([t.get("DeadLetterConfig") for t in targets]))
policy = resources["FailedEventsQueuePolicy"]["Properties"]
statements = policy["PolicyDocument"]["Statement"]
senders = {logical_id(arn) for s in statements for arn in s["Condition"]["ArnEquals"]["aws:SourceArn"]}
check("the failed-events queue takes EventBridge's dead letters from exactly the stack's rules",
      senders == set(rules) and all(s["Principal"] == {"Service": "events.amazonaws.com"} and s["Action"] == "sqs:SendMessage"
                                    for s in statements), f"policy {sorted(senders)}, rules {sorted(rules)}")

# Organization mode: the nightly audit covers the organization (a dry-run fan-out, `{"organization": true}`); otherwise
# the schedule's own event (the function's registry).
nightly = [t for r in rules.values() if "ScheduleExpression" in r["Properties"] for t in r["Properties"]["Targets"]]
audit_input = nightly[0].get("Input", {}) if len(nightly) == 1 else {}
branches = audit_input.get("Fn::If", [None, "null", None])
check("the nightly audit covers the organization in organization mode, its own registry otherwise",
      branches[0] == "OrganizationMode" and json.loads(branches[1]) == {"organization": True}
      and branches[2] == {"Ref": "AWS::NoValue"}, str(audit_input))

# Organization mode: the hub's MemberStackParameters output is the StackSet's --parameters (JSON): every member.yaml
# parameter without a default, each hub function role, nothing member.yaml doesn't take.
member_template = yaml_parse((template_path.parent / "member.yaml").read_text())
member_parameters = member_template["Parameters"]
output = sam["Outputs"]["MemberStackParameters"]
filled = re.sub(r"\$\{([A-Za-z:]+)(\.Arn)?\}", lambda m: m.group(1), output["Value"]["Fn::Sub"])
given = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(filled)}
check("MemberStackParameters is the StackSet's parameters: every required member.yaml parameter, no unknown one",
      output.get("Condition") == "OrganizationMode" and set(given) <= set(member_parameters)
      and {k for k, v in member_parameters.items() if "Default" not in v} <= set(given), str(sorted(given)))
check("MemberStackParameters names every hub function role",
      set(given.get("HubFunctionRoleArns", "").split(",")) == {f"{f}Role" for f in functions}, given.get("HubFunctionRoleArns"))

# Organization mode: the default bus takes the members' events from the organization's accounts only.
bus_policy = resources["OrganizationEventsPolicy"]
statement = bus_policy["Properties"]["Statement"]
check("the organization's bus policy exists only in organization mode", bus_policy.get("Condition") == "OrganizationMode")
check("the default bus takes events only from the organization",
      bus_policy["Properties"]["EventBusName"] == "default" and statement["Action"] == "events:PutEvents"
      and statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}, str(statement))
check("every function gets the member role's name", sam["Globals"]["Function"]["Environment"]["Variables"].get("ECR_WARDEN_MEMBER_ROLE") == {"Ref": "MemberRoleName"})

# The member template (organization mode): cfn-lint; its role grants exactly `ecr-warden permissions member`, with
# and without the optional features; only the hub's function roles of the organization may assume it; its
# forwarding rules take the calls the code governs, to the hub's default bus only.
member_path = template_path.parent / "member.yaml"
member_lint = subprocess.run(["cfn-lint", "--", str(member_path)], capture_output=True, text=True)
check("cfn-lint on member.yaml", member_lint.returncode == 0, member_lint.stdout + member_lint.stderr)
member = yaml_parse(member_path.read_text())
member_resources = member["Resources"]
role = member_resources["MemberRole"]
statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
for governed in (True, False):
    label = f"member ({'all optional features' if governed else 'no optional feature'})"
    granted, wide = grants(label, statements, governed, "*")
    check_exactly(label, granted, wide, *declared_actions("member", governed))
trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
check("member: one trust statement, for the hub's function roles", len(trust) == 1
      and trust[0]["Principal"] == {"AWS": {"Ref": "HubFunctionRoleArns"}} and trust[0]["Action"] == "sts:AssumeRole", str(trust))
for branch in trust[0]["Condition"]["Fn::If"][1:]:
    check("member: the trust always requires the organization", branch["StringEquals"].get("aws:PrincipalOrgID") == {"Ref": "OrganizationId"}, str(branch))
check("member: the role is made in one region only", role.get("Condition") == "RoleMadeHere")
hub_bus = {"Fn::Sub": "arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/default"}
forward_rules = {n: r for n, r in member_resources.items() if r["Type"] == "AWS::Events::Rule"}
for name, rule in forward_rules.items():
    targets = rule["Properties"]["Targets"]
    check(f"member {name}: forwards to the hub's default bus with the forwarding role",
          all(t["Arn"] == hub_bus and t["RoleArn"] == {"Fn::GetAtt": ["ForwardingRole", "Arn"]} for t in targets), str(targets))
forwarded_calls = set(member_resources["ForwardRepositoryCalls"]["Properties"]["EventPattern"]["detail"]["eventName"])
check("member: the forwarded CloudTrail calls are exactly those the code governs", forwarded_calls == code_calls,
      f"forwarded only {sorted(forwarded_calls - code_calls)}, code only {sorted(code_calls - forwarded_calls)}")
hub_detail_types = {t for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
                    for e in r["Properties"].get("Events", {}).values() if e["Type"] == "EventBridgeRule"
                    for t in e["Properties"]["Pattern"].get("detail-type", [])}
forwarded_types = {t for r in forward_rules.values() for t in r["Properties"]["EventPattern"]["detail-type"]}
check("member: every event kind the hub's rules take is forwarded, and no other", forwarded_types == hub_detail_types - {"Scheduled Event"},
      f"forwarded {sorted(forwarded_types)}, hub {sorted(hub_detail_types)}")
forwarding = member_resources["ForwardingRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
check("member: the forwarding role may only put events on the hub's bus",
      forwarding == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": hub_bus}], str(forwarding))

# The opt-in trail (CreateTrail): logging, every region, log file validation; a private, encrypted bucket whose
# policy lets CloudTrail deliver for this trail only (CloudTrail user guide, "Amazon S3 bucket policy for CloudTrail").
resources = sam["Resources"]
trail, bucket = resources["Trail"], resources["TrailBucket"]
check("the trail and its bucket are behind CreateTrail",
      {trail.get("Condition"), bucket.get("Condition"), resources["TrailBucketPolicy"].get("Condition")} == {"TrailCreated"})
tp = trail["Properties"]
check("the trail logs every region with log file validation",
      tp.get("IsLogging") is True and tp.get("IsMultiRegionTrail") is True and tp.get("EnableLogFileValidation") is True, str(tp))
block = bucket["Properties"].get("PublicAccessBlockConfiguration", {})
check("the trail's bucket blocks public access and is encrypted",
      all(block.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
      and "BucketEncryption" in bucket["Properties"], str(bucket["Properties"]))
trail_arn = {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/${AWS::StackName}-ecr-warden"}
check("the trail's name is the one its bucket policy admits", tp.get("TrailName") == {"Fn::Sub": "${AWS::StackName}-ecr-warden"})
allows = [s for s in resources["TrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
check("CloudTrail may deliver to the bucket for this trail only",
      len(allows) == 2 and all(s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
                               and s["Condition"]["StringEquals"].get("aws:SourceArn") == trail_arn for s in allows), str(allows))

passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
