"""The demo knowledge base: sections and ~60 articles (steps in Markdown), some internal, a couple of drafts.

Each article is (title, tags, intro, steps, tips) plus its flags; `article_body` turns it into Markdown.
"""

# ruff: noqa: E501 (prose: sentences stay on one line so they read and diff as sentences)

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoArticle:
    title: str
    tags: tuple[str, ...]
    intro: str
    steps: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    internal: bool = False
    draft: bool = False


# Ticket category key → (section name, section description).
SECTIONS: dict[str, tuple[str, str]] = {
    "billing": ("Billing & payments", "Invoices, payment methods, refunds and plan changes."),
    "login": ("Signing in", "Passwords, two-factor authentication, single sign-on and invitations."),
    "bug": ("Troubleshooting", "What to do when something does not work as expected."),
    "feature_request": ("Product & roadmap", "How we collect ideas and what is coming next."),
    "shipping": ("Orders & delivery", "Tracking, delivery problems, returns and customs."),
    "account_changes": ("Your account", "Owners, users, company details and closing an account."),
    "performance": ("Speed & reliability", "Slow pages, timeouts and our status page."),
    "how_to": ("Getting started", "Setting up and using the product step by step."),
}

A = DemoArticle
ARTICLES: dict[str, list[DemoArticle]] = {
    "billing": [
        A(
            "Why was I charged twice?",
            ("double-charge", "refund"),
            "A second charge is usually a pending card authorisation that disappears within a few days, or a renewal and an upgrade on the same day.",
            (
                "Open **Settings → Billing → Payments** and compare the dates and amounts.",
                "A charge marked *pending* is an authorisation; your bank releases it within 3–5 business days.",
                "If both charges are *paid*, reply to your ticket with the two payment references and we refund the duplicate.",
            ),
            ("Refunds reach your card within 5–10 business days depending on your bank.",),
        ),
        A(
            "Downloading invoices and receipts",
            ("invoice",),
            "Every invoice is available as a PDF from the billing page, for as long as your account exists.",
            (
                "Go to **Settings → Billing → Invoices**.",
                "Click the invoice number to open it, then **Download PDF**.",
                "To download a whole year, choose **Export all** and pick the year.",
            ),
            ("Only owners and billing admins see the billing page.",),
        ),
        A(
            "Changing your payment method",
            ("payment-method",),
            "You can replace the card or switch to bank transfer at any time; the next invoice uses the new method.",
            (
                "Open **Settings → Billing → Payment method**.",
                "Click **Replace card** and enter the new card details.",
                "Confirm the 3-D Secure check from your bank if it asks.",
            ),
            ("Bank transfer is available on yearly plans from 10 seats.",),
        ),
        A(
            "Correcting company details and VAT ID on invoices",
            ("invoice", "vat"),
            "Invoices show the company name, address and VAT ID saved in your billing profile at the time of issue.",
            (
                "Update the details under **Settings → Billing → Billing profile**.",
                "New invoices use the new details automatically.",
                "For invoices already issued, reply to your ticket and we issue a corrected copy.",
            ),
            ("A valid EU VAT ID removes VAT from future invoices (reverse charge).",),
        ),
        A(
            "Our refund policy",
            ("refund",),
            "Monthly plans can be cancelled before the renewal date without charge; yearly plans are refunded pro rata in the first 30 days.",
            (),
            (
                "Refunds go back to the original payment method.",
                "Seats removed mid-cycle are credited on the next invoice.",
            ),
        ),
        A(
            "Upgrading, downgrading and pro-rata charges",
            ("renewal", "plans"),
            "When you change plan mid-cycle you pay or are credited only for the remaining days.",
            (
                "Choose the new plan under **Settings → Billing → Plan**.",
                "Review the pro-rata amount shown before confirming.",
                "The change applies immediately; the next invoice shows the new price.",
            ),
            ("Downgrades take effect at the end of the current billing period.",),
        ),
        A(
            "Turning off automatic renewal",
            ("renewal",),
            "Your subscription renews automatically so service is never interrupted. You can switch this off at any time.",
            (
                "Open **Settings → Billing → Plan**.",
                "Click **Cancel renewal** and confirm.",
                "The account stays active until the end of the paid period.",
            ),
            (),
        ),
        A(
            "Internal: issuing refunds in the billing console",
            ("refund", "internal"),
            "Agents with billing rights can refund duplicate or disputed payments directly.",
            (
                "Find the customer in the billing console by their account id.",
                "Open the payment, choose **Refund** and pick *duplicate* or *requested by customer*.",
                "Add the ticket number in the refund note.",
                "Reply to the customer with the expected timeline (5–10 business days).",
            ),
            ("Refunds above $500 need approval from the billing team lead.",),
            internal=True,
        ),
    ],
    "login": [
        A(
            "Resetting your password",
            ("password-reset",),
            "If you forgot your password, request a reset link from the sign-in page.",
            (
                "Click **Forgot password?** on the sign-in page.",
                "Enter your login email and press **Send link**.",
                "Open the email (check spam) and choose a new password within 60 minutes.",
            ),
            ("The link works once. Request a new one if it says the token is invalid.",),
        ),
        A(
            "The password reset email does not arrive",
            ("password-reset",),
            "Reset emails are usually delivered within a minute. When they are not, it is almost always a spam filter.",
            (
                "Check spam, junk and quarantine folders.",
                "Ask your IT team to allow mail from our sending domain.",
                "Make sure you typed the email you log in with, not an alias.",
            ),
            ("Still nothing after 15 minutes? Open a ticket and we verify your address manually.",),
        ),
        A(
            "Setting up two-factor authentication",
            ("2fa",),
            "Two-factor authentication adds a one-time code from an authenticator app to your password.",
            (
                "Open **Profile → Security → Two-factor authentication**.",
                "Scan the QR code with an authenticator app.",
                "Enter the 6-digit code to confirm, then save your recovery codes somewhere safe.",
            ),
            ("Codes depend on your phone's clock: turn on automatic time if codes are rejected.",),
        ),
        A(
            "Lost your phone? Signing in without your 2FA device",
            ("2fa", "locked-out"),
            "Use one of your recovery codes instead of the app code. Each recovery code works once.",
            (
                "On the code screen, click **Use a recovery code**.",
                "Enter one of your saved codes.",
                "Set up two-factor authentication again on your new phone.",
            ),
            ("No recovery codes? Ask your account owner to reset your 2FA, or contact us from your login email.",),
        ),
        A(
            "Single sign-on with Google or Microsoft",
            ("sso",),
            "Teams can sign in with their Google Workspace or Microsoft 365 accounts.",
            (
                "An owner enables SSO under **Settings → Security → Single sign-on**.",
                "Choose the provider and enter your company domain.",
                "Everyone with that domain can now use **Sign in with Google/Microsoft**.",
            ),
            ("If everybody is suddenly locked out, check that your identity provider's certificate has not expired.",),
        ),
        A(
            "Invitations: joining your team's account",
            ("invite",),
            "Invitations are sent by email and are valid for 7 days.",
            (
                "Open the invitation email and click **Join**.",
                "Choose your name and a password.",
                "If the link has expired, ask an admin to resend it from **Settings → Team**.",
            ),
            (),
        ),
        A(
            "Why am I logged out all the time?",
            ("session",),
            "Sessions end after 14 days, or sooner if your admin set a shorter timeout or your browser deletes cookies.",
            (
                "Allow cookies for our domain.",
                "Check whether a browser extension clears cookies on close.",
                "Ask your admin about the session timeout under **Settings → Security**.",
            ),
            (),
        ),
        A(
            "Internal: unlocking accounts and resetting 2FA",
            ("locked-out", "2fa"),
            "Only do this after verifying the requester.",
            (
                "Verify identity: the request must come from the login email, or be confirmed by the account owner.",
                "In the admin console open the user and click **Unlock** or **Reset 2FA**.",
                "Note the verification method in an internal note on the ticket.",
            ),
            ("Never reset 2FA based on a phone call alone.",),
            internal=True,
        ),
    ],
    "bug": [
        A(
            "Before you report a bug: quick checks",
            ("troubleshooting",),
            "Many problems disappear after a refresh of cached files or in another browser.",
            (
                "Reload the page with Ctrl+Shift+R (Cmd+Shift+R on a Mac).",
                "Try a private window to rule out extensions.",
                "Check our status page for ongoing incidents.",
            ),
            ("Supported browsers: the latest two versions of Chrome, Firefox, Safari and Edge.",),
        ),
        A(
            "How to send us a useful bug report",
            ("troubleshooting",),
            "A good report lets us fix the problem without back-and-forth.",
            (
                "Describe what you did, what you expected and what happened instead.",
                "Add a screenshot or a short screen recording.",
                "Include the time it happened and your browser and version.",
            ),
            (),
        ),
        A(
            "File uploads fail",
            ("upload",),
            "Uploads fail when a file is too large, has a blocked type, or a proxy cuts the connection.",
            (
                "Check the file is under 25 MB.",
                "Executables and scripts are blocked for safety; zip them if you need to share them.",
                "Try again on another network to rule out a company proxy.",
            ),
            (),
        ),
        A(
            "Dates or times look wrong",
            ("ui", "timezone"),
            "Dates are shown in your personal time zone.",
            (
                "Open **Profile → Preferences** and check the time zone.",
                "Exports use UTC unless you pick a time zone when exporting.",
            ),
            (),
        ),
        A(
            "Special characters in CSV exports",
            ("export",),
            "Our CSV files are UTF-8. Older Excel versions open them as another encoding and garble accents.",
            (
                "In Excel choose **Data → From Text/CSV**.",
                "Select *65001: Unicode (UTF-8)* as file origin.",
                "Or choose **Export for Excel** in the export dialog.",
            ),
            (),
        ),
        A(
            "Emails arriving twice",
            ("notifications",),
            "Duplicate emails usually come from two notification rules matching the same event.",
            (
                "Open **Settings → Notifications** and look for overlapping rules.",
                "Check whether the customer has two contacts with the same address.",
            ),
            (),
        ),
        A(
            "Internal: known issues and workarounds",
            ("known-issue",),
            "The current list of confirmed bugs, with workarounds to give customers.",
            (
                "Export misses the last columns when more than 30 are selected: export in two parts.",
                "Date filter ignores the selection in Safari 16: use another browser until the fix ships.",
                "Notification links open the wrong record on the Android app 3.2: update to 3.3.",
            ),
            ("Tag tickets with `known-issue` so we can notify customers when fixes ship.",),
            internal=True,
        ),
    ],
    "feature_request": [
        A(
            "How we handle feature requests",
            ("roadmap",),
            "Every request is logged and counted. The most requested ideas are reviewed each quarter.",
            (),
            ("We can't promise dates, but we tell everyone who asked when a feature ships.",),
        ),
        A(
            "Our public roadmap",
            ("roadmap",),
            "See what we are working on, what is next and what has shipped.",
            (
                "Open the roadmap from the help menu.",
                "Vote for the ideas that matter to you.",
                "Follow an idea to get an email when its status changes.",
            ),
            (),
        ),
        A(
            "Integrations available today",
            ("integration",),
            "We connect with calendars, chat tools and accounting software.",
            ("Open **Settings → Integrations**.", "Pick an integration and follow the connection steps."),
            ("Missing one? Our API and webhooks let you build your own.",),
        ),
        A(
            "Dark mode and display preferences",
            ("ux",),
            "Choose light, dark or your system's theme.",
            ("Open **Profile → Preferences → Appearance**.", "Pick *Light*, *Dark* or *System*."),
            (),
        ),
        A(
            "Beta programme",
            ("beta",),
            "Try new features before everyone else and shape them with your feedback.",
            ("Ask your account owner to enable **Settings → Labs**.", "Switch on the beta features you want to try."),
            ("Beta features may change or be removed.",),
        ),
        A(
            "Internal: logging a feature request",
            ("roadmap", "internal"),
            "How to record a customer's idea so product can find it.",
            (
                "Search the roadmap board for an existing idea.",
                "Add the customer and ticket link as a vote, or create the idea.",
                "Tag the ticket `roadmap` and solve it with the standard reply.",
            ),
            (),
            internal=True,
        ),
        A(
            "Release notes: what's new this quarter",
            ("release-notes",),
            "The highlights of recent releases.",
            (
                "Shared saved filters.",
                "Faster reports for long date ranges.",
                "Recovery codes for two-factor authentication.",
            ),
            (),
            draft=True,
        ),
    ],
    "shipping": [
        A(
            "Tracking your order",
            ("tracking",),
            "You receive a tracking link by email as soon as your order leaves our warehouse.",
            ("Open **Orders** and select the order.", "Click the tracking number to open the carrier's page."),
            ("Tracking can take up to 24 hours to show the first scan.",),
        ),
        A(
            "My tracking says delivered but I have nothing",
            ("tracking", "missing"),
            "Parcels marked delivered sometimes went to a neighbour, a reception desk or a parcel locker.",
            (
                "Check with neighbours, reception and your mail room.",
                "Look for a delivery note with a drop-off location.",
                "Wait one business day: carriers sometimes scan before the actual delivery.",
                "Still missing? Open a ticket and we start a claim with the carrier.",
            ),
            (),
        ),
        A(
            "Changing the delivery address",
            ("address-change",),
            "The address can be changed until the order is packed.",
            (
                "Open the order and click **Change address**.",
                "If the button is gone, the order is already packed: reply to your confirmation email and we contact the carrier.",
            ),
            (),
        ),
        A(
            "Damaged or wrong items",
            ("damaged", "return"),
            "We replace damaged or wrong items free of charge.",
            (
                "Take photos of the package and the item.",
                "Open a ticket with the photos and your order number.",
                "We send a replacement and a prepaid return label.",
            ),
            (),
        ),
        A(
            "Returns and refunds for orders",
            ("return",),
            "You can return unused items within 30 days.",
            (
                "Open the order and choose **Return items**.",
                "Print the prepaid label and drop the parcel off.",
                "We refund within 5 business days after the return arrives.",
            ),
            (),
        ),
        A(
            "Delivery times and express shipping",
            ("shipping",),
            "Standard delivery takes 2–4 business days in the EU and US, 5–8 elsewhere. Express is next business day in most countries.",
            (),
            ("Orders placed before 2 pm ship the same day.",),
        ),
        A(
            "Customs and import fees",
            ("customs",),
            "Orders shipped outside the EU and US may be subject to import duties, paid by the recipient.",
            (),
            ("Business customers can ask for DDP shipping, where we pay the duties and invoice them.",),
        ),
        A(
            "Internal: opening a carrier claim",
            ("tracking", "internal"),
            "Claims for lost or damaged parcels must be opened within 14 days of delivery.",
            (
                "Open the carrier portal and search the tracking number.",
                "Attach the customer's photos and the packing slip.",
                "Note the claim reference in the order and an internal note on the ticket.",
                "Ship a replacement without waiting for the claim when the customer is on a paid plan.",
            ),
            (),
            internal=True,
        ),
    ],
    "account_changes": [
        A(
            "Transferring account ownership",
            ("ownership",),
            "The owner can hand ownership to another admin at any time.",
            (
                "Open **Settings → Team** and select the new owner.",
                "Choose **Make owner** and confirm with your password.",
                "The previous owner becomes an admin.",
            ),
            ("If the owner has left the company, contact us from a company address and we verify the change.",),
        ),
        A(
            "Adding and removing users",
            ("seats", "offboarding"),
            "Admins invite colleagues and deactivate leavers; billing follows the number of active seats.",
            (
                "Invite from **Settings → Team → Invite**.",
                "Deactivate a leaver from their row's menu; their history is kept.",
                "The seat is credited on the next invoice.",
            ),
            (),
        ),
        A(
            "Changing your company name or details",
            ("rename",),
            "Company details appear on invoices and in emails to your customers.",
            (
                "Open **Settings → Company**.",
                "Edit the name and address and save.",
                "Billing details are separate: update them under **Settings → Billing**.",
            ),
            (),
        ),
        A(
            "Deleting your account and data",
            ("gdpr",),
            "You can ask us to delete your account and all personal data we hold.",
            (
                "The account owner requests deletion under **Settings → Company → Close account**.",
                "We confirm by email; after 14 days everything is deleted permanently.",
            ),
            ("Export what you want to keep first: deleted data cannot be restored.",),
        ),
        A(
            "Changing the account language",
            ("language",),
            "The interface and system emails are available in English, German, French and Spanish.",
            (
                "Each person picks a language under **Profile → Preferences**.",
                "Emails to your customers use the language set under **Settings → Company**.",
            ),
            (),
        ),
        A(
            "Roles and permissions",
            ("permissions",),
            "Owners, admins, agents and viewers each see and do different things.",
            (
                "Owners manage billing and can delete the account.",
                "Admins manage people and settings.",
                "Agents work with customers; viewers have read-only access.",
            ),
            (),
        ),
        A(
            "Internal: verifying account change requests",
            ("internal", "security"),
            "Ownership transfers, deletions and email changes need verification.",
            (
                "Accept requests only from the owner's login email, or call back the owner's number on file.",
                "For a departed owner, ask for a request on company letterhead signed by a director.",
                "Record the verification in an internal note.",
            ),
            (),
            internal=True,
        ),
    ],
    "performance": [
        A(
            "The app feels slow: what to check",
            ("slow",),
            "Most slowness comes from the network, the browser or very large lists.",
            (
                "Check our status page for incidents.",
                "Test another network (mobile hotspot) to rule out your connection.",
                "Close other heavy tabs and disable extensions.",
                "Use filters to make big lists smaller.",
            ),
            (),
        ),
        A(
            "Our status page and incident updates",
            ("outage",),
            "The status page shows the health of every service and the history of incidents.",
            ("Open status.example.com.", "Subscribe to email or SMS updates."),
            (),
        ),
        A(
            "Reports timing out on long date ranges",
            ("reports", "timeout"),
            "Reports over very long ranges are built in the background and emailed when ready.",
            (
                "Choose the date range and click **Run in background**.",
                "You get an email with a download link when the report is ready.",
            ),
            (),
        ),
        A(
            "Mobile app performance and battery",
            ("mobile",),
            "The app syncs in the background; you can limit how often.",
            (
                "Open the app's **Settings → Sync**.",
                "Choose *Every 15 minutes* instead of *Live*.",
                "Update to the latest app version.",
            ),
            (),
        ),
        A(
            "Speed for teams outside Europe and the US",
            ("latency",),
            "Our servers are in Frankfurt and Virginia. Teams in Asia-Pacific can choose the Singapore region on Enterprise plans.",
            (),
            (),
        ),
        A(
            "Internal: triaging performance complaints",
            ("internal", "slow"),
            "Collect the facts before escalating to engineering.",
            (
                "Ask for the time, the page and a speed test result.",
                "Check the account's shard on the monitoring dashboard.",
                "If several customers report the same, open an incident and link the tickets.",
            ),
            (),
            internal=True,
        ),
        A(
            "Internal: incident communication template",
            ("internal", "outage"),
            "What to send customers during an incident.",
            (
                "Acknowledge: we know, we're working on it, next update in 30 minutes.",
                "Update every 30 minutes, even if nothing changed.",
                "Resolve: what happened, what we changed, an apology.",
            ),
            (),
            internal=True,
            draft=True,
        ),
    ],
    "how_to": [
        A(
            "Setting up automatic replies outside office hours",
            ("setup", "configuration"),
            "An automatic reply tells customers when to expect an answer.",
            (
                "Open **Settings → Business hours** and set your hours.",
                "Under **Automatic replies** switch on *Outside business hours*.",
                "Write the message and save.",
            ),
            (),
        ),
        A(
            "Changing the team's email signature",
            ("configuration",),
            "One signature for everyone keeps replies consistent.",
            (
                "Open **Settings → Email → Signature**.",
                "Use placeholders like `{agent.name}`.",
                "Save: new replies use it immediately.",
            ),
            (),
        ),
        A(
            "Importing contacts from a spreadsheet",
            ("onboarding", "import"),
            "Import contacts from CSV or Excel in a few steps.",
            (
                "Save your sheet as CSV (UTF-8).",
                "Open **Customers → Import** and upload the file.",
                "Match the columns and start the import.",
            ),
            ("Rows with problems are listed so you can fix and re-import just those.",),
        ),
        A(
            "Giving a colleague read-only access",
            ("permissions",),
            "Viewers can see everything but change nothing.",
            ("Invite them from **Settings → Team → Invite**.", "Choose the **Viewer** role."),
            (),
        ),
        A(
            "Scheduling reports by email",
            ("reports",),
            "Any report can be emailed on a schedule.",
            ("Open the report and click **Schedule**.", "Pick the frequency and recipients."),
            (),
        ),
        A(
            "Adding the chat widget to your website",
            ("chat", "setup"),
            "Paste a small snippet into your website to offer live chat.",
            (
                "Open **Settings → Chat widget**.",
                "Copy the snippet.",
                "Paste it before the closing `</body>` tag of your site.",
            ),
            (),
        ),
        A(
            "Adding custom fields",
            ("configuration",),
            "Custom fields capture information specific to your business.",
            ("Open **Settings → Fields**.", "Click **Add field**, choose the type and where it appears."),
            (),
        ),
        A(
            "What the ticket statuses mean",
            ("statuses",),
            "**New**: nobody has looked yet. **Open**: we are working on it. **Pending**: waiting for the customer. **On hold**: waiting for a third party. **Solved**: answered. **Closed**: done for good.",
            (),
            ("Replying to a solved ticket reopens it.",),
        ),
        A(
            "Connecting your calendar",
            ("integration",),
            "Sync appointments with Google Calendar or Outlook.",
            ("Open **Settings → Integrations → Calendar**.", "Sign in with your calendar account and allow access."),
            (),
        ),
        A(
            "Getting an API key",
            ("api", "integration"),
            "Use the API to connect your own systems.",
            (
                "Open **Profile → API token**.",
                "Click **Create token** and copy it; it is shown only once.",
                "Send it in the `Authorization: Token …` header.",
            ),
            ("Tokens act as you: keep them secret.",),
        ),
        A(
            "Embedding the help center on your website",
            ("help-center",),
            "Link to your help center or embed the search box on your own site.",
            ("Open **Settings → Help center**.", "Copy the embed snippet for the search box."),
            (),
        ),
    ],
}


def article_body(article: DemoArticle) -> str:
    """Markdown: the intro, numbered steps, then tips as a list."""
    parts = [article.intro]
    if article.steps:
        parts.append("## Steps\n\n" + "\n".join(f"{index}. {step}" for index, step in enumerate(article.steps, 1)))
    if article.tips:
        parts.append("## Good to know\n\n" + "\n".join(f"- {tip}" for tip in article.tips))
    if not article.internal:
        parts.append("Still stuck? Reply to your ticket or write to us and an agent will help.")
    return "\n\n".join(parts)
