//! This machine's identity (what software tokens are bound to) and installation time.

use crate::platform::{rfc3339, unix};
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::Run;

pub(super) fn check(run: &mut Run<'_>) {
    let installed = run.platform.os_installed_at.clone();
    let f = match &run.platform.machine {
        Ok(id) => Finding::new(
            CheckId::Machine,
            "machine.ok",
            Status::Ok,
            id.source().display().to_string(),
            text!(en: "Machine identity {} read; software tokens made here are bound to it.", id.fingerprint();
                  zh: "已读取本机标识 {}，本机创建的软证书库与之绑定。", id.fingerprint()),
        )
        .fact("fingerprint", id.fingerprint())
        .fact("source", id.source().display().to_string()),
        Err(reason) => Finding::new(
            CheckId::Machine,
            "machine.no_identity",
            Status::Problem,
            "/etc/machine-id",
            text!(en: "This machine's identity cannot be read ({reason}), so no software token can be opened or created.";
                  zh: "无法读取本机标识（{reason}），因此软证书库无法打开或创建。"),
        )
        .fix(text!(en: "As root run `systemd-machine-id-setup` (an OS image prepared for cloning ships an empty /etc/machine-id), then run `yinxin doctor` again.";
                   zh: "以 root 身份运行 `systemd-machine-id-setup`（为克隆准备的系统镜像中 /etc/machine-id 为空），然后重新运行 `yinxin doctor`。"))
        .fact("reason", reason.clone()),
    };
    let f = match installed {
        Some(t) => f
            .fact("os_installed_at", rfc3339(t.at))
            .fact("os_installed_at_unix", unix(t.at))
            .fact("os_installed_at_source", t.source),
        None => f.fact("os_installed_at", serde_json::Value::Null),
    };
    run.push(f);
}
