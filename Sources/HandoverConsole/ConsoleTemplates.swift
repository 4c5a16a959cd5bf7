/// The console's page templates (Mustache), compiled into the binary so the one executable carries
/// its console. `{{x}}` is HTML-escaped; `{{{body}}}` appears only in the layout.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout, "problem": problem, "sign-in": signIn, "sign-in-code": signInCode, "new-password": newPassword,
        "alerts": alerts, "alert-table": alertTable, "alert": alert, "messages": messages, "message": message,
        "directory": directory, "directory-edit": directoryEdit, "directory-entry": directoryEntry, "directory-history": directoryHistory,
        "directory-version": directoryVersion, "directory-proposal": directoryProposal,
        "directory-compare": directoryCompare,
        "boundaries": boundaries, "boundary-crossings": boundaryCrossings, "mailbox": mailbox, "mailbox-message": mailboxMessage, "sent": sent,
        "sent-message": sentMessage, "send": send,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} – Handover</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to main content</a>
        <header class="top">
        <p class="brand">Handover</p>
        {{#user}}
        <nav aria-label="Main"><ul>{{#sections}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{title}}</a>
        </li>{{/sections}}</ul></nav>
        <form method="post" action="/console/sign-out" class="signout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{name}} ({{roles}})</span> <button type="submit">Sign out</button>
        </form>
        {{/user}}
        </header>
        <main id="main" tabindex="-1">
        {{{body}}}
        </main>
        {{#user}}
        <div id="idle-warning" class="idle" hidden role="alertdialog" aria-labelledby="idle-text" data-idle-seconds="{{idleSeconds}}"
        data-warning-seconds="{{warningSeconds}}">
        <p id="idle-text">You will be signed out soon because nothing has happened for a while. What you have typed stays on this page.</p>
        <form method="post" action="/console/session/keep-alive"><input type="hidden" name="csrf" value="{{csrf}}"><button
        type="submit">Stay signed in</button></form>
        </div>
        {{/user}}
        </body>
        </html>
        """

    static let problem = """
        <h1>{{heading}}</h1>
        <p>{{text}}</p>
        <p><a href="/console">Go to the start page</a></p>
        """

    static let errorSummary = """
        {{#error}}<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2><p>{{error}}</p></div>{{/error}}
        """

    static let signIn =
        """
        <h1>Sign in to Handover</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        """ + errorSummary
            + """
            <form method="post" action="/console/sign-in" class="narrow">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}"></div>
            <div class="field"><label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required></div>
            <button type="submit">Continue</button>
            </form>
            <p>You will be asked for a security code from your authenticator app next.</p>
            {{#oidc}}<h2>Or</h2>
            <p><a class="button" href="/console/sign-in/oidc">Sign in with your organisation's account</a></p>{{/oidc}}
            """

    static let signInCode =
        """
        <h1>Enter your security code</h1>
        """ + errorSummary
            + """
            <form method="post" action="/console/sign-in/code" class="narrow">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="code">Security code</label>
            <p class="hint" id="code-hint">The 6-digit code your authenticator app shows for Handover.</p>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required
            aria-describedby="code-hint"></div>
            <button type="submit">Sign in</button>
            </form>
            """

    static let newPassword =
        """
        <h1>Choose a new password</h1>
        <p>Your first password could be used once only. Choose your own: at least {{minimum}} characters.</p>
        """ + errorSummary
            + """
            <form method="post" action="/console/sign-in/new-password" class="narrow">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="password">New password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="{{minimum}}" required></div>
            <div class="field"><label for="confirm">New password again</label>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="{{minimum}}" required></div>
            <button type="submit">Save and continue</button>
            </form>
            """

    static let alerts = """
        <h1>Alerts</h1>
        <form method="get" action="/console/alerts" class="filters">
        <div class="field"><label for="state">Show</label>
        <select id="state" name="state">{{#states}}<option value="{{value}}"{{#selected}}
        selected{{/selected}}>{{value}}</option>{{/states}}</select></div>
        <div class="field"><label for="workflow">Workflow</label>
        <select id="workflow" name="workflow"><option value="">any workflow</option>{{#workflows}}<option value="{{value}}"{{#selected}}
        selected{{/selected}}>{{value}}</option>{{/workflows}}</select></div>
        <button type="submit">Filter</button>
        </form>
        <div id="alert-board" data-refresh="/console/alerts/board?{{refreshQuery}}" aria-live="polite">
        {{>alert-table}}
        </div>
        """

    static let alertTable = """
        <p>{{count}} alert(s). This list refreshes itself every 30 seconds.</p>
        {{#none}}<p>No alerts match.</p>{{/none}}
        {{^none}}
        <div class="scroll"><table>
        <caption class="visually-hidden">Alerts</caption>
        <thead><tr><th scope="col">Reference</th><th scope="col">Workflow</th><th scope="col">From</th><th scope="col">To</th><th
        scope="col">Why</th><th scope="col">Stage</th><th scope="col">Raised</th><th scope="col">State</th></tr></thead>
        <tbody>
        {{#alerts}}<tr><td data-label="Reference" class="token"><a href="/console/alerts/{{id}}">{{id}}</a></td><td
        data-label="Workflow">{{workflow}}</td><td data-label="From">{{from}}</td><td data-label="To">{{to}}</td><td
        data-label="Why">{{condition}}</td><td data-label="Stage">{{stage}}</td><td data-label="Raised">{{age}} ago</td><td
        data-label="State">{{state}}{{#acknowledgedBy}} by {{acknowledgedBy}}{{/acknowledgedBy}}{{#assignedTo}}, with
        {{assignedTo}}{{/assignedTo}}</td></tr>
        {{/alerts}}
        </tbody></table></div>
        {{/none}}
        """

    static let alert =
        """
        <p><a href="/console/alerts">Back to alerts</a></p>
        <h1>Alert {{id}}</h1>
        """ + errorSummary
            + """
            {{#escalated}}<p class="notice" role="status">Stage {{escalated}} was brought forward and fires now.</p>{{/escalated}}
            <dl class="facts">
            <dt>Why</dt><dd>{{condition}}</dd>
            <dt>Workflow</dt><dd>{{workflow}}{{#safeguarding}} (safeguarding){{/safeguarding}}</dd>
            <dt>From</dt><dd>{{from}}</dd><dt>To</dt><dd>{{to}}</dd>
            <dt>Stage</dt><dd>{{stage}}</dd>
            <dt>Raised</dt><dd>{{raisedAt}} ({{age}} ago)</dd>
            <dt>State</dt><dd>{{state}}</dd>
            {{#acknowledgedBy}}<dt>Acknowledged by</dt><dd>{{acknowledgedBy}} at {{acknowledgedAt}}: {{acknowledgedNote}}</dd>{{/acknowledgedBy}}
            {{#resolvedReason}}<dt>Resolved</dt><dd>{{resolvedReason}}</dd>{{/resolvedReason}}
            {{#assignedTo}}<dt>With</dt><dd>{{assignedTo}} since {{assignedAt}}</dd>{{/assignedTo}}
            <dt>Message</dt><dd><a href="/console/messages/{{messageID}}">{{messageID}}</a></dd>
            </dl>
            {{#open}}
            <h2>Acknowledge</h2>
            <p>Acknowledging says you are on it: repeats stop. It does not accept responsibility for the message.{{#safeguarding}} On a
            safeguarding workflow the deadline for someone to accept responsibility does not move.{{/safeguarding}}</p>
            <form method="post" action="/console/alerts/{{id}}/acknowledge">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="note">Note</label>
            <p class="hint" id="note-hint">What you are doing about it, for the rest of the team.</p>
            <textarea id="note" name="note" rows="3" maxlength="2000" required aria-describedby="note-hint"></textarea></div>
            <button type="submit">Acknowledge</button>
            </form>
            {{/open}}
            {{#unresolved}}
            <h2>Reassign</h2>
            <p>Hands this alert to a colleague on a duty team of either organisation. Nothing else about it changes.</p>
            <form method="post" action="/console/alerts/{{id}}/reassign">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="to">Hand it to</label>
            <select id="to" name="to" required><option value="">Choose</option>{{#colleagues}}<option value="{{email}}">{{name}}
            ({{organisations}})</option>{{/colleagues}}</select></div>
            <button type="submit">Reassign</button>
            </form>
            <h2>Escalate now</h2>
            <p>Brings the next stage of this message's escalation forward: it fires now, to whoever that stage tells.</p>
            <form method="post" action="/console/alerts/{{id}}/escalate">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit">Escalate now</button>
            </form>
            {{/unresolved}}
            {{#repeats}}
            <h2>Snooze</h2>
            <p>Repeats of this alert are next due at {{nextNotifyAt}}. Snoozing pauses them; the alert stays open{{#safeguarding}} and
            the deadline for someone to accept responsibility does not move{{/safeguarding}}.</p>
            <form method="post" action="/console/alerts/{{id}}/snooze">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="reason">Reason</label>
            <input id="reason" name="reason" maxlength="2000" required></div>
            <div class="field"><label for="minutes">For</label>
            <select id="minutes" name="minutes">{{#snoozeChoices}}<option value="{{minutes}}">{{words}}</option>{{/snoozeChoices}}</select></div>
            <button type="submit">Snooze</button>
            </form>
            {{/repeats}}
            <h2>Timeline</h2>
            <ol class="timeline">{{#timeline}}<li><time>{{at}}</time> {{kind}}</li>{{/timeline}}</ol>
            """

    static let messages = """
        <h1>Messages</h1>
        {{#hasErrors}}<div class="error-summary" role="alert"><h2>There is a problem</h2><ul>{{#errors}}<li>{{text}}</li>{{/errors}}</ul>
        </div>{{/hasErrors}}
        <form method="get" action="/console/messages" class="filters">
        <div class="field"><label for="id">Message id</label><input id="id" name="id" autocomplete="off"></div>
        <div class="field"><label for="local_id">Local id</label><input id="local_id" name="local_id" value="{{localID}}"></div>
        <div class="field"><label for="mailbox">Mailbox</label><input id="mailbox" name="mailbox" value="{{mailbox}}"></div>
        <div class="field"><label for="workflow">Workflow</label><input id="workflow" name="workflow" value="{{workflow}}"></div>
        <div class="field"><label for="status">Status</label>
        <select id="status" name="status"><option value="">any status</option>{{#statuses}}<option value="{{value}}"{{#selected}}
        selected{{/selected}}>{{value}}</option>{{/statuses}}</select></div>
        <div class="field"><label for="since">Sent since (YYYY-MM-DD)</label><input id="since" name="since" value="{{since}}"
        inputmode="numeric"></div>
        <button type="submit">Search</button>
        </form>
        <h2>Search by NHS number</h2>
        <p>For your organisation's own work with this person. Say why you are searching: the search is recorded with your name and
        reason. It looks through the 5,000 newest messages of your organisations.</p>
        <form method="post" action="/console/messages/nhs-number" class="filters">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div class="field"><label for="nhs_number">NHS number</label><input id="nhs_number" name="nhs_number" required maxlength="12"
        inputmode="numeric" autocomplete="off"></div>
        <div class="field"><label for="nhs_reason">Why you are searching</label><input id="nhs_reason" name="reason" required minlength="5"
        maxlength="500" autocomplete="off"></div>
        <button type="submit">Search by NHS number</button>
        </form>
        {{#searched}}
        <h2>{{count}} message(s){{#byNHSNumber}} about that NHS number{{/byNHSNumber}}</h2>
        {{#none}}<p>No messages of your organisations match.</p>{{/none}}
        {{^none}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Message</th><th scope="col">Workflow</th><th scope="col">From</th><th scope="col">To</th><th
        scope="col">Status</th><th scope="col">Responsibility</th><th scope="col">Sent</th></tr></thead>
        <tbody>{{#messages}}<tr><td data-label="Message" class="token"><a href="/console/messages/{{id}}">{{id}}</a></td><td
        data-label="Workflow">{{workflow}}</td><td data-label="From">{{from}}</td><td data-label="To">{{to}}</td><td
        data-label="Status">{{status}}</td><td data-label="Responsibility">{{responsibility}}</td><td data-label="Sent">{{age}} ago</td>
        </tr>
        {{/messages}}</tbody></table></div>
        {{/none}}
        {{/searched}}
        """

    static let message = """
        <p><a href="/console/messages">Back to search</a></p>
        <h1>Message {{id}}</h1>
        <dl class="facts">
        <dt>Workflow</dt><dd>{{workflow}}</dd>
        <dt>Status</dt><dd>{{status}}</dd>
        {{#localID}}<dt>Local id</dt><dd>{{localID}}</dd>{{/localID}}
        <dt>From</dt><dd>{{sender}} ({{senderOrganisation}})</dd>
        <dt>To</dt><dd>{{recipient}} ({{recipientOrganisation}})</dd>
        <dt>Sent</dt><dd>{{createdAt}} ({{age}} ago)</dd>
        {{#deliveredAt}}<dt>Delivered</dt><dd>{{deliveredAt}}</dd>{{/deliveredAt}}
        {{#downloadedAt}}<dt>Downloaded</dt><dd>{{downloadedAt}}</dd>{{/downloadedAt}}
        {{#acknowledgedAt}}<dt>Acknowledged</dt><dd>{{acknowledgedAt}}</dd>{{/acknowledgedAt}}
        {{#expiresAt}}<dt>Expires</dt><dd>{{expiresAt}}</dd>{{/expiresAt}}
        {{#route}}<dt>Route</dt><dd>addressed by {{addressedBy}} "{{address}}"{{#service}}, service {{service}}{{/service}}, directory
        version {{version}}</dd>{{/route}}
        {{#responsibility}}<dt>Responsibility</dt><dd>{{state}}{{#by}} by {{by}}{{/by}}{{#at}} at {{at}}{{/at}}{{#declineReason}}, reason:
        {{declineReason}}{{/declineReason}}{{#outcome}}; outcome {{outcome}}{{/outcome}}</dd>{{/responsibility}}
        </dl>
        {{#hasPayload}}<p><a href="/console/messages/{{id}}/payload" download>Download the payload</a>
        ({{size}} bytes, as sent; downloading it is recorded)</p>{{/hasPayload}}
        {{#receipt}}<h2>Receipt</h2>
        {{#verified}}<p class="notice verified" role="status"><strong>Verified</strong> by the broker just now: its signature over this
        receipt checks against its receipt certificate (valid until {{notAfter}}){{#payloadMatches}}, and the payload it holds has the
        SHA-256 recorded when it was sent{{/payloadMatches}}{{#noDigest}}; no SHA-256 was recorded at sending to compare the payload
        with{{/noDigest}}.</p>{{/verified}}
        {{^verified}}<p class="notice" role="alert"><strong>Not verified.</strong> {{^signatureVerified}}The signature does not check
        against the broker's receipt certificate, or the certificate is out of date. {{/signatureVerified}}{{#payloadDiffers}}The payload
        held now does not have the SHA-256 recorded when it was sent. {{/payloadDiffers}}Tell whoever runs this service.</p>{{/verified}}
        <details class="record"><summary>The receipt as signed</summary><pre class="narrative">{{text}}</pre></details>
        <p><a href="/console/messages/{{id}}/receipt" download>Download the receipt with its signature</a> (to check it again with
        <code>openssl cms -verify</code>; downloading it is recorded).</p>{{/receipt}}
        <h2>Alerts</h2>
        <ul>{{#alerts}}<li>{{#mayAct}}<a href="/console/alerts/{{id}}">{{id}}</a>{{/mayAct}}{{^mayAct}}{{id}}{{/mayAct}}: {{condition}},
        {{state}}</li>{{/alerts}}</ul>
        <h2>Timeline</h2>
        <ol class="timeline">{{#timeline}}<li><time>{{at}}</time> {{kind}}</li>{{/timeline}}</ol>
        """

    static let directory = """
        <h1>Directory</h1>
        {{#applied}}<p class="notice" role="status">Version {{applied}} saved and in force.</p>{{/applied}}
        <p>Version {{version}} is in force. <a href="/console/directory/history">History</a>{{#mayEdit}} · <a
        href="/console/directory/edit">Edit the directory</a>{{/mayEdit}}</p>
        {{#hasProposals}}<h2>Waiting for a second admin</h2>
        <ul>{{#proposals}}<li><a href="/console/directory/proposals/{{proposalID}}">Proposal {{proposalID}}</a>: {{count}} change(s) to
        version {{onVersion}}, proposed by {{by}} at {{at}}</li>{{/proposals}}</ul>{{/hasProposals}}
        <h2>Services</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Service</th><th scope="col">Mailbox</th><th scope="col">Workflows</th><th
        scope="col">Areas</th></tr></thead>
        <tbody>{{#services}}<tr><td data-label="Service">{{id}}{{#mayEdit}} <a href="/console/directory/entries/services/{{id}}">Edit<span
        class="visually-hidden"> service {{id}}</span></a>{{/mayEdit}}</td><td data-label="Mailbox">{{mailbox}}</td><td
        data-label="Workflows">{{workflows}}</td><td data-label="Areas">{{areas}}</td></tr>{{/services}}</tbody></table></div>
        <h2>Areas</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Area</th><th scope="col">Name</th><th scope="col">Postcode districts</th></tr></thead>
        <tbody>{{#areas}}<tr><td data-label="Area">{{code}}{{#mayEdit}} <a href="/console/directory/entries/areas/{{code}}">Edit<span
        class="visually-hidden"> area {{code}}</span></a>{{/mayEdit}}</td><td data-label="Name">{{name}}</td><td
        data-label="Postcode districts">{{postcodes}}</td></tr>{{/areas}}</tbody></table></div>
        <h2>Organisations</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col">Domain</th></tr></thead>
        <tbody>{{#organisations}}<tr><td data-label="Code">{{code}}{{#mayEdit}} <a
        href="/console/directory/entries/organisations/{{code}}">Edit<span class="visually-hidden"> organisation {{code}}</span></a>{{/mayEdit}}</td>
        <td data-label="Name">{{name}}</td><td data-label="Domain">{{domain}}</td></tr>{{/organisations}}</tbody></table></div>
        <h2>Mailboxes</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Mailbox</th><th scope="col">Name</th><th scope="col">Organisation</th><th
        scope="col">Active</th></tr></thead>
        <tbody>{{#mailboxes}}<tr><td data-label="Mailbox">{{id}}{{#mayEdit}} <a href="/console/directory/entries/mailboxes/{{id}}">Edit<span
        class="visually-hidden"> mailbox {{id}}</span></a>{{/mayEdit}}</td><td data-label="Name">{{name}}</td><td
        data-label="Organisation">{{organisation}}</td><td data-label="Active">{{active}}</td></tr>{{/mailboxes}}</tbody></table></div>
        <h2>Workflows</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Workflow</th><th scope="col">Safeguarding</th><th scope="col">Escalation
        policy</th></tr></thead>
        <tbody>{{#workflows}}<tr><td data-label="Workflow">{{id}}{{#mayEdit}} <a href="/console/directory/entries/workflows/{{id}}">Edit<span
        class="visually-hidden"> workflow {{id}}</span></a>{{/mayEdit}}</td><td data-label="Safeguarding">{{safeguarding}}</td><td
        data-label="Escalation policy">{{escalation}}</td></tr>{{/workflows}}</tbody></table></div>
        <h2>Webhooks</h2>
        <ul>{{#webhooks}}<li>{{id}}: {{url}}</li>{{/webhooks}}</ul>
        """

    static let directoryEdit = """
        <p><a href="/console/directory">Back to the directory</a></p>
        <h1>Edit the directory</h1>
        {{#restoring}}<p class="notice">This is version {{restoring}}. Review it, then apply it as the next version.</p>{{/restoring}}
        {{#hasProblems}}<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2>
        <ul>{{#problems}}<li>{{text}}</li>{{/problems}}</ul></div>{{/hasProblems}}
        {{#conflict}}<div class="error-summary" role="alert"><h2>Someone else saved the directory</h2>
        <p>You started from version {{started}}; version {{currentVersion}} is now in force. Your text is kept below. Compare it with the
        current version, then apply again from version {{currentVersion}}.</p>
        <details><summary>The current version</summary><pre>{{currentYAML}}</pre></details></div>{{/conflict}}
        """ + directoryReview
            + """
            <form method="post" action="/console/directory/edit">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="version" value="{{version}}">
            <div class="field"><label for="yaml">The directory (YAML), starting from version {{version}}</label>
            <textarea id="yaml" name="yaml" rows="24" spellcheck="false" class="code">{{yaml}}</textarea></div>
            """ + directoryEditButtons

    /// The directory editors' confirmation box and their three steps, closing their form.
    static let directoryEditButtons = """
        <div class="field checkbox"><input type="checkbox" id="confirm_impact" name="confirm_impact" value="yes"><label
        for="confirm_impact">I have reviewed the routing impact</label></div>
        <div class="buttons">
        <button type="submit" name="action" value="validate">Validate</button>
        <button type="submit" name="action" value="review">Review changes</button>
        <button type="submit" name="action" value="apply">Apply</button>
        </div>
        </form>
        """

    /// What a directory edit would change and which addresses would route differently (the
    /// whole-document editor and the one-entry form).
    static let directoryReview = """
        {{#checked}}<div class="notice" role="status"><h2>{{#review}}Review{{/review}}{{^review}}No problems found{{/review}}</h2>
        {{#noChanges}}<p>This is the same as the version in force.</p>{{/noChanges}}
        {{^noChanges}}<h3>Changes</h3><ul>{{#changes}}<li>{{text}}</li>{{/changes}}</ul>{{/noChanges}}
        {{#warnings}}<p>Warning: {{text}}</p>{{/warnings}}
        {{#needsApproval}}<h3>Needs a second admin</h3>
        <p>This edit touches a safeguarding workflow, so Apply saves it as a proposal. It comes into force when another admin
        approves it.</p>
        <ul>{{#approvalReasons}}<li>{{reason}}</li>{{/approvalReasons}}</ul>{{/needsApproval}}</div>{{/checked}}
        {{#review}}<h2>Routing impact</h2>
        {{#needsConfirmation}}<p class="error-text">Some addresses that route today would stop routing. Tick
        "I have reviewed the routing impact" to apply anyway.</p>{{/needsConfirmation}}
        <div class="scroll"><table><thead><tr><th scope="col">Workflow</th><th scope="col">Address</th><th scope="col">Before</th><th
        scope="col">After</th><th scope="col">Effect</th></tr></thead>
        <tbody>{{#impact}}<tr><td data-label="Workflow">{{workflow}}</td><td data-label="Address">{{address}}</td><td
        data-label="Before">{{before}}</td><td data-label="After">{{after}}</td><td data-label="Effect">{{effect}}</td>
        </tr>{{/impact}}</tbody></table></div>{{/review}}
        """

    static let directoryEntry =
        """
        <p><a href="/console/directory">Back to the directory</a></p>
        <h1>Edit {{entryName}} {{entryID}}</h1>
        <p>Each field is a YAML value: text as it is (quote it if it looks like a number or a word such as yes), a list as
        <code>[A, B]</code>. Leave a field empty to leave it out. A secret shown as &lt;redacted&gt; stays as it is unless you replace
        it.</p>
        {{#hasProblems}}<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2>
        <ul>{{#problems}}<li>{{text}}</li>{{/problems}}</ul></div>{{/hasProblems}}
        """ + directoryReview
            + """
            <form method="post" action="/console/directory/entries/{{kind}}/{{entryID}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="version" value="{{version}}">
            {{#fields}}<div class="field{{#error}} has-error{{/error}}"><label for="f-{{name}}">{{label}}{{#fixed}} (cannot be changed
            here){{/fixed}}</label>
            {{#error}}<p class="error-text" id="f-{{name}}-error">{{error}}</p>{{/error}}
            {{#fixed}}<input id="f-{{name}}" name="{{name}}" value="{{value}}" readonly>{{/fixed}}
            {{^fixed}}{{#nested}}<textarea id="f-{{name}}" name="{{name}}" rows="3" spellcheck="false" class="code"{{#error}}
            aria-describedby="f-{{name}}-error" aria-invalid="true"{{/error}}>{{value}}</textarea>{{/nested}}
            {{^nested}}<input id="f-{{name}}" name="{{name}}" value="{{value}}" spellcheck="false" autocomplete="off"{{#error}}
            aria-describedby="f-{{name}}-error" aria-invalid="true"{{/error}}>{{/nested}}{{/fixed}}</div>
            {{/fields}}
            """ + directoryEditButtons

    static let directoryHistory = """
        <p><a href="/console/directory">Back to the directory</a></p>
        <h1>Directory history</h1>
        <ol class="history">{{#versions}}<li><a href="/console/directory/versions/{{version}}">Version {{version}}</a>, {{at}}, by {{actor}}
        <ul>{{#changes}}<li>{{text}}</li>{{/changes}}</ul></li>{{/versions}}</ol>
        """

    static let directoryVersion = """
        <p><a href="/console/directory/history">Back to the history</a></p>
        <h1>Directory version {{version}}</h1>
        {{#isCurrent}}<p>This is the version in force.</p>{{/isCurrent}}
        {{^isCurrent}}<p>Version {{current}} is in force.{{#mayEdit}} <a href="/console/directory/edit?from={{version}}">Restore this version</a>
        (you review it and apply it as a new version).{{/mayEdit}}</p>{{/isCurrent}}
        <form method="get" action="/console/directory/compare" class="filters">
        <input type="hidden" name="from" value="{{version}}">
        <div class="field"><label for="to">Compare with version</label>
        <select id="to" name="to">{{#others}}<option value="{{value}}">{{value}}</option>{{/others}}</select></div>
        <button type="submit">Compare</button>
        </form>
        <pre class="code">{{yaml}}</pre>
        """

    static let directoryProposal = """
        <p><a href="/console/directory">Back to the directory</a></p>
        <h1>Directory proposal {{id}}</h1>
        {{#justProposed}}<p class="notice" role="status">Your change is saved as proposal {{id}}. It comes into force when another admin
        approves it.</p>{{/justProposed}}
        {{#hasProblems}}<div class="error-summary" role="alert" tabindex="-1"><h2>There is a problem</h2>
        <ul>{{#problems}}<li>{{text}}</li>{{/problems}}</ul></div>{{/hasProblems}}
        <dl class="facts">
        <dt>State</dt><dd>{{state}}{{#stale}} (the directory changed after it was proposed: it can no longer be applied){{/stale}}</dd>
        <dt>Proposed by</dt><dd>{{proposedBy}}, {{proposedAt}}</dd>
        <dt>Made on</dt><dd>version {{base}} (version {{inForce}} is in force)</dd>
        {{#decidedBy}}<dt>Decided by</dt><dd>{{decidedBy}}, {{decidedAt}}</dd>{{/decidedBy}}
        {{#appliedVersion}}<dt>Applied as</dt><dd><a href="/console/directory/versions/{{appliedVersion}}">version
        {{appliedVersion}}</a></dd>{{/appliedVersion}}
        </dl>
        <h2>Why it needs a second admin</h2>
        <ul>{{#reasons}}<li>{{reason}}</li>{{/reasons}}</ul>
        <h2>Changes</h2>
        <ul>{{#changes}}<li>{{text}}</li>{{/changes}}</ul>
        <h2>Routing impact</h2>
        {{^hasImpact}}<p>Every address routes as it does in version {{base}}.</p>{{/hasImpact}}
        {{#hasImpact}}<div class="scroll"><table><thead><tr><th scope="col">Workflow</th><th scope="col">Address</th><th
        scope="col">Before</th><th scope="col">After</th><th scope="col">Effect</th></tr></thead>
        <tbody>{{#impact}}<tr><td data-label="Workflow">{{workflow}}</td><td data-label="Address">{{address}}</td><td
        data-label="Before">{{before}}</td><td data-label="After">{{after}}</td><td data-label="Effect">{{effect}}</td>
        </tr>{{/impact}}</tbody></table></div>{{/hasImpact}}
        <details><summary>The proposed directory</summary><pre class="code">{{yaml}}</pre></details>
        {{#pending}}{{#mine}}<p>You proposed this change: another admin approves it. You may withdraw it.</p>{{/mine}}{{/pending}}
        {{#mayApprove}}<form method="post" action="/console/directory/proposals/{{id}}/approve">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p>Approving applies it as the next version, with the routing impact above.</p>
        <button type="submit">Approve and apply</button></form>{{/mayApprove}}
        {{#mayReject}}<form method="post" action="/console/directory/proposals/{{id}}/reject">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" class="secondary">{{#mine}}Withdraw{{/mine}}{{^mine}}Reject{{/mine}}</button></form>{{/mayReject}}
        """

    static let directoryCompare = """
        <p><a href="/console/directory/history">Back to the history</a></p>
        <h1>From version {{from}} to version {{to}}</h1>
        <h2>Changes</h2>
        {{#noChanges}}<p>The two versions are the same.</p>{{/noChanges}}
        <ul>{{#changes}}<li>{{text}}</li>{{/changes}}</ul>
        <h2>Routing impact</h2>
        {{#noImpact}}<p>Every address routes the same way in both.</p>{{/noImpact}}
        {{^noImpact}}<div class="scroll"><table><thead><tr><th scope="col">Workflow</th><th scope="col">Address</th>
        <th scope="col">In {{from}}</th><th scope="col">In {{to}}</th><th scope="col">Effect</th></tr></thead>
        <tbody>{{#impact}}<tr><td data-label="Workflow">{{workflow}}</td><td data-label="Address">{{address}}</td>
        <td data-label="In {{from}}">{{before}}</td><td data-label="In {{to}}">{{after}}</td><td data-label="Effect">{{effect}}</td></tr>{{/impact}}
        </tbody></table></div>{{/noImpact}}
        """

    static let boundaries = """
        <h1>Boundaries</h1>
        <p>Each boundary is a sending organisation, a receiving organisation and a workflow, over the last 30 days. Each level links to the
        crossings that lowered it.</p>
        {{#none}}<p>No crossings in the last 30 days.</p>{{/none}}
        {{#boundaries}}
        <section class="boundary"><h2>{{from}} to {{to}}, {{workflow}}</h2>
        <p>{{crossings}} crossing(s); risk {{risk}}.</p>
        <ul>{{#flows}}<li>{{flow}}: <a href="{{href}}">{{level}}</a></li>{{/flows}}</ul></section>
        {{/boundaries}}
        """

    static let boundaryCrossings = """
        <p><a href="/console/boundaries">Back to boundaries</a></p>
        <h1>Crossings from {{from}} to {{to}}, {{workflow}}</h1>
        <p>Crossings failing {{flow}}, newest first.</p>
        {{#none}}<p>None.</p>{{/none}}
        <ul>{{#crossings}}<li>{{#mayOpen}}<a
        href="/console/messages/{{id}}">{{id}}</a>{{/mayOpen}}{{^mayOpen}}{{id}}{{/mayOpen}}</li>{{/crossings}}</ul>
        """

    static let mailboxMessage =
        """
        <p><a href="/console/mailbox">Back to the mailbox</a></p>
        <h1>Message {{id}}</h1>
        """ + errorSummary
            + """
            <dl class="facts">
            <dt>Workflow</dt><dd>{{workflow}}{{#safeguarding}} (safeguarding){{/safeguarding}}</dd>
            <dt>From</dt><dd>{{from}}</dd>
            <dt>To</dt><dd>{{mailbox}}</dd>
            <dt>Received</dt><dd>{{received}} ({{age}} ago)</dd>
            <dt>Responsibility</dt><dd>{{state}}{{#decidedBy}} by {{decidedBy}} at {{decidedAt}}{{/decidedBy}}{{#declineReason}}, reason:
            {{declineReason}}{{/declineReason}}{{#outcome}}; outcome {{outcome}}{{/outcome}}</dd>
            </dl>
            {{#closedBySender}}<p class="notice">This message was {{state}} by its sender: {{closedReason}}.
            {{#replacedBy}}It was replaced by <a href="/console/mailbox/{{replacedBy}}">message {{replacedBy}}</a>.{{/replacedBy}}
            Nothing more needs deciding on it.</p>{{/closedBySender}}
            <details class="record"><summary>The crossing record: who, why, on what basis, and what the payload says it is</summary>
            <dl>{{#record}}<dt>{{field}}</dt><dd>{{value}}</dd>{{/record}}</dl>
            {{^record}}<p>The sender gave no crossing record.</p>{{/record}}</details>
            {{#summary}}<section class="summary" aria-labelledby="summary-heading"><h2 id="summary-heading">What the document says</h2>
            <p>A summary read from the message{{#summaryTruncated}} and shortened{{/summaryTruncated}}. It is not the whole message:
            download it to read it in full.</p>
            <dl class="facts">{{#summaryFacts}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/summaryFacts}}</dl>
            {{#summarySections}}<h3>{{sectionTitle}}</h3>{{#hasSectionText}}<p class="narrative">{{sectionText}}</p>{{/hasSectionText}}
            {{#hasSectionEntries}}<ul>{{#sectionEntries}}<li>{{entryLabel}}</li>{{/sectionEntries}}</ul>{{/hasSectionEntries}}
            {{/summarySections}}
            <p>It holds {{summaryContents}}.</p></section>{{/summary}}
            {{#summaryProblem}}<p class="notice">{{summaryProblem}}</p>{{/summaryProblem}}
            {{#hasRedirects}}<h2>Redirected</h2><ul>{{#redirects}}<li>From {{from}} to {{to}} by {{by}} at {{at}}: {{note}}</li>
            {{/redirects}}</ul>{{/hasRedirects}}
            {{#hasPayload}}<p><a href="/console/mailbox/{{id}}/payload" download>Download the message</a> ({{size}} bytes){{^downloaded}}:
            read it before you decide{{/downloaded}}.</p>{{/hasPayload}}
            {{#mayDecide}}
            {{#safeguarding}}<p class="notice">
            <strong>If someone is at immediate risk, phone as well.</strong> Do not rely on this message alone.</p>{{/safeguarding}}
            <h2>Accept responsibility</h2>
            <p>You accept it in your own name. The sender is told.</p>
            <form method="post" action="/console/mailbox/{{id}}/accept">
            <input type="hidden" name="csrf" value="{{csrf}}">
            {{#basisRequired}}
            <div class="field"><label for="article6">Your lawful basis: UK GDPR Article 6</label>
            <select id="article6" name="article6" required>
            <option value="">Choose</option>{{#article6}}<option>{{value}}</option>{{/article6}}</select></div>
            <div class="field"><label for="article9">Article 9 condition</label>
            <select id="article9" name="article9"><option value="">None</option>{{#article9}}<option>{{value}}</option>{{/article9}}</select></div>
            <div class="field"><label for="schedule1">DPA 2018 Schedule 1 condition</label>
            <select id="schedule1" name="schedule1">
            <option value="">None</option>{{#schedule1}}<option>{{value}}</option>{{/schedule1}}</select></div>
            {{/basisRequired}}
            <div class="field"><label for="accept-note">Note (optional)</label>
            <textarea id="accept-note" name="note" rows="2" maxlength="2000"></textarea></div>
            <button type="submit">Accept</button>
            </form>
            <h2>Decline</h2>
            <p>Responsibility stays with the sender, who is told why.</p>
            <form method="post" action="/console/mailbox/{{id}}/decline">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="reason">Reason</label>
            <select id="reason" name="reason" required>
            <option value="">Choose</option>{{#reasons}}<option>{{value}}</option>{{/reasons}}</select></div>
            <div class="field"><label for="decline-note">Why (the sender reads this)</label>
            <textarea id="decline-note" name="note" rows="2" maxlength="2000" required></textarea></div>
            <button type="submit">Decline</button>
            </form>
            <h2>Redirect</h2>
            <p>If it reached the wrong team or council, send it on. Its deadlines and history go with it, and the sender is told where it
            went.</p>
            <form method="post" action="/console/mailbox/{{id}}/redirect">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="to">Send it to (a mailbox, organisation code, AREA: or POSTCODE: address)</label>
            <input id="to" name="to" required maxlength="200" autocomplete="off"></div>
            <div class="field"><label for="redirect-note">Why (the sender and the new team read this)</label>
            <textarea id="redirect-note" name="note" rows="2" maxlength="2000" required></textarea></div>
            <button type="submit">Redirect</button>
            </form>
            {{/mayDecide}}
            {{#mayRecordOutcome}}
            <h2>Record what happened</h2>
            <form method="post" action="/console/mailbox/{{id}}/outcome">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="code">Outcome</label>
            <select id="code" name="code" required>
            <option value="">Choose</option>{{#outcomes}}<option>{{value}}</option>{{/outcomes}}</select></div>
            <div class="field"><label for="detail">Detail (optional; the sender reads this)</label>
            <textarea id="detail" name="detail" rows="2" maxlength="2000"></textarea></div>
            <button type="submit">Record outcome</button>
            </form>
            {{/mayRecordOutcome}}
            """

    static let mailbox = """
        <h1>Mailbox</h1>
        {{#redirected}}<p class="notice" role="status">Message {{id}} was sent on to {{to}}. The sender has been
        told.</p>{{/redirected}}
        <p>Messages received by {{mailboxes}}, those waiting for someone to accept responsibility first.
        <a href="/console/send">Send a message</a> · <a href="/console/sent">Messages you sent</a>.</p>
        {{#hasReports}}<h2>Reports about messages you sent</h2>
        <ul class="reports">{{#reports}}<li>{{words}} <span class="age">({{age}} ago)</span></li>{{/reports}}</ul>{{/hasReports}}
        {{#none}}<p>Nothing has arrived.</p>{{/none}}
        {{^none}}
        <div class="scroll"><table><thead><tr><th scope="col">Message</th><th scope="col">Workflow</th><th scope="col">From</th><th
        scope="col">Mailbox</th><th scope="col">Received</th><th scope="col">Responsibility</th></tr></thead>
        <tbody>{{#messages}}<tr{{#pending}} class="pending"{{/pending}}><td data-label="Message" class="token">
        <a href="/console/mailbox/{{id}}">{{id}}</a></td><td
        data-label="Workflow">{{workflow}}</td><td data-label="From">{{from}}</td><td data-label="Mailbox">{{mailbox}}</td><td
        data-label="Received">{{age}} ago</td><td data-label="Responsibility">{{responsibility}}</td></tr>{{/messages}}</tbody></table>
        </div>
        {{/none}}
        """

    static let sent = """
        <p><a href="/console/mailbox">Back to the mailbox</a></p>
        <h1>Sent</h1>
        <p>What your mailboxes sent, newest first: whether it was read, who took responsibility and what happened.</p>
        {{#none}}<p>Nothing has been sent.</p>{{/none}}
        {{^none}}
        <div class="scroll"><table><thead><tr><th scope="col">Message</th><th scope="col">Workflow</th><th scope="col">To</th><th
        scope="col">Sent</th><th scope="col">Status</th><th scope="col">Responsibility</th><th scope="col">Outcome</th><th
        scope="col">Expiry</th></tr></thead>
        <tbody>{{#messages}}<tr><td data-label="Message" class="token"><a href="/console/sent/{{id}}">{{id}}</a></td><td
        data-label="Workflow">{{workflow}}</td><td data-label="To">{{to}} ({{mailbox}})</td><td data-label="Sent">{{age}} ago</td><td
        data-label="Status">{{status}}</td><td data-label="Responsibility">{{responsibility}}</td><td
        data-label="Outcome">{{outcome}}</td><td data-label="Expiry">{{expiry}}</td></tr>{{/messages}}</tbody></table>
        </div>
        {{/none}}
        """

    static let sentMessage =
        """
        <p><a href="/console/sent">Back to sent messages</a></p>
        <h1>Sent message {{id}}</h1>
        """ + errorSummary
            + """
            <dl class="facts">
            <dt>Workflow</dt><dd>{{workflow}}</dd>
            <dt>To</dt><dd>{{to}} ({{mailbox}})</dd>
            <dt>Sent</dt><dd>{{sent}} ({{age}} ago)</dd>
            <dt>Status</dt><dd>{{status}}; {{expiry}}</dd>
            <dt>Responsibility</dt><dd>{{state}}{{#decidedBy}} by {{decidedBy}}{{/decidedBy}}{{#declineReason}}, reason:
            {{declineReason}}{{/declineReason}}{{#note}} ({{note}}){{/note}}</dd>
            <dt>Outcome</dt><dd>{{#outcome}}{{outcome}}{{#outcomeDetail}}: {{outcomeDetail}}{{/outcomeDetail}}{{/outcome}}{{^outcome}}none
            yet{{/outcome}}</dd>
            </dl>
            {{#hasRedirects}}<h2>Where it went</h2><ul>{{#redirects}}<li>Sent on from {{from}} to {{to}} at {{at}}: {{note}}</li>
            {{/redirects}}</ul>{{/hasRedirects}}
            {{^open}}<p class="notice">This message was {{state}}: {{closedReason}}.{{#replacedBy}} The replacement is
            <a href="/console/sent/{{replacedBy}}">message {{replacedBy}}</a>.{{/replacedBy}}</p>{{/open}}
            {{#open}}
            <h2>Withdraw</h2>
            <p>The receiving team is told, and no more alerts are raised for it.</p>
            <form method="post" action="/console/sent/{{id}}/withdraw">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="withdraw-reason">Why (the receiving team reads this)</label>
            <textarea id="withdraw-reason" name="reason" rows="2" maxlength="2000" required></textarea></div>
            <button type="submit">Withdraw</button>
            </form>
            <h2>Amend</h2>
            <p>Send a corrected version. It goes to the same team, linked to this one, and its deadlines start again. Up to {{maxKiB}} KiB of
            text.</p>
            <form method="post" action="/console/sent/{{id}}/amend">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="field"><label for="amend-text">Corrected message</label>
            <textarea id="amend-text" name="text" rows="6" required></textarea></div>
            <div class="field"><label for="amend-reason">What changed (the receiving team reads this)</label>
            <textarea id="amend-reason" name="reason" rows="2" maxlength="2000" required></textarea></div>
            <button type="submit">Send the amendment</button>
            </form>
            {{/open}}
            """

    static let send =
        """
        <p><a href="/console/mailbox">Back to the mailbox</a></p>
        <h1>Send a message</h1>
        """ + errorSummary
            + """
            <p>Type the message below (up to {{maxKiB}} KiB of text). To send files, use <code>handover client send</code> or the folder
            agent.</p>
            <form method="get" action="/console/send" class="route-check">
            <div class="field"><label for="from">From</label>
            <select id="from" name="from">{{#mailboxes}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/mailboxes}}</select></div>
            <div class="field"><label for="workflow">Workflow</label>
            <select id="workflow" name="workflow" required><option value="">Choose</option>{{#workflows}}<option{{#selected}}
            selected{{/selected}}>{{value}}</option>{{/workflows}}</select></div>
            {{#noWorkflows}}<p>This mailbox may not send any workflow.</p>{{/noWorkflows}}
            <div class="field"><label for="to">To (a mailbox, organisation code, AREA: or POSTCODE: address)</label>
            <input id="to" name="to" value="{{to}}" maxlength="200" autocomplete="off"></div>
            <p id="route-preview" class="notice" role="status" aria-live="polite">{{preview}}</p>
            <button type="submit">Check where it goes</button>
            </form>
            <form method="post" action="/console/send" id="send-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="from" value="{{from}}" data-copy="from">
            <input type="hidden" name="workflow" value="{{workflow}}" data-copy="workflow">
            <input type="hidden" name="to" value="{{to}}" data-copy="to">
            <h2>About the crossing</h2>
            <p>Sent by {{author}}. The receiving team sees what you fill in here.</p>
            <div class="field"><label for="nhs_number">NHS number of the person it is about (optional)</label>
            <input id="nhs_number" name="nhs_number" value="{{nhsNumber}}" inputmode="numeric" maxlength="12" autocomplete="off"></div>
            <div class="field"><label for="action">For action or for information</label>
            <select id="action" name="action"><option value="">Not said</option>{{#actions}}<option{{#selected}}
            selected{{/selected}}>{{value}}</option>{{/actions}}</select></div>
            <div class="field"><label for="question">What you are asking them to do (optional)</label>
            <textarea id="question" name="question" rows="2" maxlength="2000">{{question}}</textarea></div>
            <div class="field"><label for="consent">Consent</label>
            <select id="consent" name="consent"><option value="">Not said</option>{{#consent}}<option{{#selected}}
            selected{{/selected}}>{{value}}</option>{{/consent}}</select></div>
            <div class="field"><label for="send-article6">Lawful basis: UK GDPR Article 6</label>
            <select id="send-article6" name="article6"><option value="">Not said</option>{{#article6}}<option{{#selected}}
            selected{{/selected}}>{{value}}</option>{{/article6}}</select></div>
            <div class="field"><label for="send-article9">Article 9 condition</label>
            <select id="send-article9" name="article9"><option value="">None</option>{{#article9}}<option{{#selected}}
            selected{{/selected}}>{{value}}</option>{{/article9}}</select></div>
            <div class="field"><label for="local_id">Your reference (optional, no names)</label>
            <input id="local_id" name="local_id" value="{{localID}}" maxlength="100" autocomplete="off"></div>
            <h2>The message</h2>
            <div class="field"><label for="text">Message</label>
            <textarea id="text" name="text" rows="8" required>{{text}}</textarea></div>
            {{#safeguarding}}<div class="notice"><p><strong>Safeguarding: if someone is at immediate risk, phone as well.</strong>
            Do not rely on this message alone.</p>
            <div class="field checkbox"><input type="checkbox" id="immediate_risk" name="immediate_risk" value="yes">
            <label for="immediate_risk">Someone is at immediate risk (I have phoned as well)</label></div></div>{{/safeguarding}}
            <button type="submit">Send</button>
            </form>
            """
}
