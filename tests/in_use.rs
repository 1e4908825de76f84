//! Lifecycle policies never expire an image in use (issue 19, part 1), against moto's ECS and Lambda.
//!
//! Where moto falls short, a loopback stand-in answers (its requests checked by the contract check):
//! - `DescribeImages` for the repository: moto stamps every push "now", and the policy must see images of
//!   different ages;
//! - Lambda's `GetFunction`: moto's `ResolvedImageUri` carries a hash of the image URI, not the image's digest.
//!
//! moto's running tasks have no `imageDigest` (AWS gives the digest a container runs), so the tag they were
//! started from is resolved against the repository's images, as a service's task definition is.

use integration_tests::faults::FaultProxy;
use integration_tests::{Moto, ACCOUNT, REGION};
use serde_json::json;

const DAY: i64 = 86_400;

fn digest(n: u32) -> String {
    format!("sha256:{n:064}")
}

fn uri(reference: &str) -> String {
    format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{reference}")
}

/// Expires every image pushed more than a day ago.
const POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"a day","selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#;

#[tokio::test]
async fn a_lifecycle_policy_that_would_expire_a_running_image_is_not_put() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    ecr.create_repository().repository_name("team/idle").send().await.expect("create");
    let config = moto.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster().cluster_name("prod").send().await.expect("cluster");
    // moto runs tasks only on a registered container instance (its Fargate tasks fail in awsvpc networking).
    let document = json!({"instanceId": moto.ec2_instance(), "region": REGION, "accountId": ACCOUNT});
    ecs.register_container_instance()
        .cluster("prod")
        .instance_identity_document(document.to_string())
        .send()
        .await
        .expect("instance");
    let container = |image: &str| {
        aws_sdk_ecs::types::ContainerDefinition::builder().name("app").image(uri(image)).memory(512).build()
    };
    let register = |family: &str, image: &str| {
        ecs.register_task_definition().family(family).container_definitions(container(image))
    };
    register("batch", "team/api:v1").send().await.expect("task definition");
    register("web", "team/api:v2").send().await.expect("task definition");
    let task = ecs.run_task().cluster("prod").task_definition("batch").send().await.expect("run task");
    let task_arn = task.tasks()[0].task_arn().expect("task arn").to_string();
    let service = ecs
        .create_service()
        .cluster("prod")
        .service_name("web")
        .task_definition("web")
        .desired_count(1)
        .send()
        .await
        .expect("service");
    let service_arn = service.service().and_then(|s| s.service_arn()).expect("service arn").to_string();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"}}]});
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_role().role_name("resize").assume_role_policy_document(trust.to_string()).send().await.expect("role");
    let lambda = aws_sdk_lambda::Client::new(&config);
    lambda
        .create_function()
        .function_name("resize")
        .role(format!("arn:aws:iam::{ACCOUNT}:role/resize"))
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .code(aws_sdk_lambda::types::FunctionCode::builder().image_uri(uri("team/api:v1")).build())
        .send()
        .await
        .expect("function");

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    let image = |n: u32, tag: &str, days: i64| {
        json!({"registryId": ACCOUNT, "repositoryName": "team/api", "imageDigest": digest(n), "imageTags": [tag],
               "imagePushedAt": now - days * DAY, "imageSizeInBytes": 1000})
    };
    let images = json!({"imageDetails": [image(1, "v1", 30), image(2, "v2", 20), image(3, "v3", 0)]}).to_string();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.answer("DescribeImages", move |body| body.contains("team/api").then(|| images.clone()));
    let function = json!({"Configuration": {"FunctionName": "resize", "PackageType": "Image",
        "FunctionArn": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize")},
        "Code": {"RepositoryType": "ECR", "ImageUri": uri("team/api:v1"), "ResolvedImageUri": uri(&format!("team/api@{}", digest(1)))}});
    proxy.stand_in("GET", "/2015-03-31/functions/resize", &function.to_string());
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str()), ("AWS_ENDPOINT_URL_LAMBDA", proxy.endpoint.as_str())];
    let baseline = format!(
        "[in_use]\necs = true\nlambda = true\n\n[defaults]\ntag_mutability = {{ mode = \"off\" }}\nscanning = {{ mode = \"off\" }}\n\
         encryption = {{ mode = \"off\" }}\nrepository_policy = {{ mode = \"off\" }}\ntags = {{ mode = \"off\" }}\n\
         lifecycle_policy = {{ mode = \"enforce\", policy = '{POLICY}' }}\n"
    );
    let baseline = moto.write_file("baseline.toml", &baseline);
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let apply = moto.ecr_warden_with(&["apply", "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(apply.code(), 3, "a violation apply can't fix: {apply:?}");
    let report = apply.json();
    let control = |name: &str| {
        let repository =
            report["repositories"].as_array().expect("repositories").iter().find(|r| r["repository"] == name);
        let controls = repository.and_then(|r| r["controls"].as_array()).expect("controls");
        controls.iter().find(|c| c["control"] == "lifecycle-policy").cloned().expect("lifecycle control")
    };
    let api = control("team/api");
    assert_eq!(api["status"], "violation", "{api:#}");
    let finding = api["finding"].as_str().unwrap_or_default();
    assert_eq!(
        finding,
        format!(
            "the baseline's lifecycle policy would expire 2 images in use: team/api:v1 (sha256:000000000000) by rule \
             1, used by ECS task {task_arn}, Lambda function arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize; \
             team/api:v2 (sha256:000000000000) by rule 1, used by ECS service {service_arn}; it was not put"
        )
    );
    assert_eq!(control("team/idle")["status"], "fixed", "no image of it is in use: the policy is put");
    let puts = moto.operations().into_iter().filter(|op| op == "PutLifecyclePolicy").count();
    assert_eq!(puts, 1, "only team/idle's policy");
    assert!(ecr.get_lifecycle_policy().repository_name("team/api").send().await.is_err(), "team/api has no policy");

    // What the check costs: the account's uses are read once a run; each repository with an image in use reads its
    // images once.
    let calls = moto.operation_counts();
    let count = |op: &str| calls.get(op).copied().unwrap_or(0);
    assert_eq!(
        (count("ListClusters"), count("ListTasks"), count("DescribeTasks"), count("ListServices")),
        (1, 1, 1, 1),
        "{calls:?}"
    );
    // One task definition: the service's (the task's image is read from the task itself); ListFunctions is
    // Lambda's REST API, which names no X-Amz-Target.
    let reads = (count("DescribeServices"), count("DescribeTaskDefinition"), count("(no X-Amz-Target)"));
    assert_eq!(reads, (1, 1, 1), "{calls:?}");
    assert_eq!(proxy.stood_in().iter().filter(|r| r.path.starts_with("/2015-03-31/functions/")).count(), 1);
    moto.keep_stood_in(&proxy);
}

/// In an audit, the policy in place is checked too: a compliant policy that would expire an image the baseline
/// lists as in use is a violation (an alert, a failed Security Hub finding). A list alone reads neither ECS nor
/// Lambda.
#[tokio::test]
async fn the_policy_in_place_is_checked_in_every_audit() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    ecr.put_lifecycle_policy().repository_name("team/api").lifecycle_policy_text(POLICY).send().await.expect("put");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    let images = json!({"imageDetails": [
        {"registryId": ACCOUNT, "repositoryName": "team/api", "imageDigest": digest(1), "imageTags": ["v1"], "imagePushedAt": now - 30 * DAY},
        {"registryId": ACCOUNT, "repositoryName": "team/api", "imageDigest": digest(2), "imageTags": ["v2"], "imagePushedAt": now}]})
    .to_string();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.answer("DescribeImages", move |_| Some(images.clone()));
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let baseline = format!(
        "[in_use]\nimages = [\"team/api:v1\"]\n\n[defaults]\ntag_mutability = {{ mode = \"off\" }}\n\
         scanning = {{ mode = \"off\" }}\nencryption = {{ mode = \"off\" }}\nrepository_policy = {{ mode = \"off\" }}\n\
         tags = {{ mode = \"off\" }}\nlifecycle_policy = {{ mode = \"enforce\", policy = '{POLICY}' }}\n"
    );
    let baseline = moto.write_file("baseline.toml", &baseline);
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let plan = moto.ecr_warden_with(&["plan", "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(plan.code(), 3, "{plan:?}");
    let control = plan.json()["repositories"][0]["controls"]
        .as_array()
        .and_then(|controls| controls.iter().find(|c| c["control"] == "lifecycle-policy").cloned())
        .expect("the lifecycle control");
    assert_eq!(control["status"], "violation");
    assert_eq!(
        control["finding"],
        "the lifecycle policy in place would expire 1 image in use: team/api:v1 (sha256:000000000000) by rule 1, \
         used by the baseline's [in_use] list"
    );
    assert_eq!(
        control["in_use"],
        json!([{"digest": digest(1), "tags": ["v1"], "rule_priority": 1, "users": ["the baseline's [in_use] list"]}]),
        "for tooling"
    );
    let calls = moto.operation_counts();
    assert!(
        calls.keys().all(|op| !op.starts_with("List") || op == "ListTagsForResource"),
        "no ECS or Lambda: {calls:?}"
    );
    assert!(moto.writes().is_empty(), "{:?}", moto.writes());

    // The nightly audit alerts on it.
    let audit = moto.fixture_event_file("scheduled-event.json");
    let env_audit = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str()), ("ECR_WARDEN_BASELINE", baseline)];
    let handled = moto.ecr_warden_with(&["handle", "--event", &audit, "--output", "json"], &env_audit);
    assert_eq!(handled.code(), 0, "{handled:?}");
    let handled = handled.json();
    let alert = &handled["alerts"][0]["alert"];
    assert_eq!(alert["title"], "HIGH governance finding in team/api: lifecycle-policy", "{handled:#}");
    assert!(alert["problems"][0].as_str().unwrap_or("").contains("would expire 1 image in use"), "{alert:#}");

    let bad = moto.write_file("bad.toml", "[in_use]\nimages = [\"team/api@sha256:short\"]\n");
    let refused = moto.ecr_warden(&["baseline", "validate", bad.to_str().expect("utf-8")]);
    assert_eq!(refused.code(), 1, "{refused:?}");
    assert!(
        refused.stderr().contains("in_use.images: `team/api@sha256:short` is not NAME@sha256:DIGEST"),
        "{refused:?}"
    );
    moto.keep_stood_in(&proxy);
}
