"""Console texts of accounts, log-in, sessions and API keys."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.continue": ("继续", "Continue"),
    "login.code": ("验证码", "Verification code"),
    "login.code_hint": (
        "请输入身份验证器应用中显示的 6 位验证码。",
        "Enter the 6-digit code shown in your authenticator app.",
    ),
    "login.must_change": (
        "管理员重置了您的密码，请先设置一个新密码。",
        "An administrator reset your password; choose a new one first.",
    ),
    "account.title": ("我的账号", "My account"),
    "account.changed_at": ("密码修改于", "password changed"),
    "account.change_password": ("修改密码", "Change password"),
    "account.current_password": ("当前密码", "Current password"),
    "account.new_password": ("新密码", "New password"),
    "account.policy": (
        "至少 12 个字符；不能是常见密码，不能包含用户名或姓名。可用几个不相关的词加符号。",
        "At least 12 characters; not a common password, not containing your username or name."
        " Several unrelated words with symbols work well.",
    ),
    "account.second_factor": ("双因素认证", "Second factor"),
    "account.totp_on": ("已启用", "Enabled"),
    "account.totp_about": (
        "启用后，登录时除密码外还需输入身份验证器应用（TOTP）生成的验证码。",
        "Once enabled, logging in also needs a code from an authenticator app (TOTP).",
    ),
    "account.totp_start": ("开始启用", "Start enrolling"),
    "account.totp_scan": (
        "在身份验证器应用中添加此账号（输入密钥或导入下面的链接），再输入应用显示的验证码确认。"
        "密钥只显示这一次。",
        "Add this account to your authenticator app (type the secret or import the link"
        " below), then confirm with the code it shows. The secret is shown only this once.",
    ),
    "account.totp_secret": ("密钥：", "Secret:"),
    "account.totp_pending": (
        "双因素认证尚待确认：输入应用显示的验证码，或重新开始启用。",
        "The second factor awaits confirmation: enter the app's code, or start again.",
    ),
    "account.totp_confirm": ("确认启用", "Confirm and enable"),
    "account.totp_disable": ("停用双因素认证", "Disable the second factor"),
    "account.done.password": (
        "密码已修改，其他设备上的登录已退出。",
        "Password changed; sessions on other devices have ended.",
    ),
    "account.done.totp_on": (
        "双因素认证已启用，其他设备上的登录已退出。",
        "Second factor enabled; sessions on other devices have ended.",
    ),
    "account.done.totp_off": ("双因素认证已停用。", "Second factor disabled."),
    "keys.title": ("API 密钥", "API keys"),
    "keys.name": ("名称", "Name"),
    "keys.role": ("角色", "Role"),
    "keys.expires": ("有效天数", "Valid for (days)"),
    "keys.created": (
        "新密钥如下，只显示这一次，请立即妥善保存：",
        "Here is the new key. It is shown only this once; store it now:",
    ),
    "keys.revoke": ("吊销", "Revoke"),
    "users.title": ("账号", "Accounts"),
    "users.new": ("新建账号", "New account"),
    "users.display_name": ("显示名", "Display name"),
    "users.reset": ("重置密码", "Reset password"),
    "users.reset_password": (
        "新密码（留空则生成临时密码）",
        "New password (leave empty for a generated one)",
    ),
    "users.require_change": ("下次登录时须修改密码", "Must change it at next login"),
    "users.remove_second_factor": (
        "同时移除双因素认证（手机丢失）",
        "Also remove the second factor (lost phone)",
    ),
    "users.reset_done": ("已重置密码：", "Password reset for"),
    "users.temporary": (
        "临时密码（只显示这一次，请安全地交给本人）：",
        "Temporary password (shown only once; hand it over safely):",
    ),
    "users.must_change": ("待改密码", "must change password"),
    "role.cdo": ("首席数据官", "CDO"),
    "role.cdo_executive": ("首席数据执行官", "CDO executive"),
    "role.unit_cdo": ("单位首席数据官", "Unit CDO"),
    "role.data_liaison": ("数据联络专员", "Data liaison"),
    "role.consumer": ("数据使用方", "Consumer"),
    "role.operator": ("运营方", "Operator"),
    "role.auditor": ("审计员", "Auditor"),
}
