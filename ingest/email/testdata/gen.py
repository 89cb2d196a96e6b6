#!/usr/bin/env python3
"""Writes the e-mail fixtures used by ingest/email's tests (python3 gen.py).

Each message is built here by hand, byte for byte, in the charsets and shapes Chinese webmail
and phone clients send, so the tests do not depend on a mail library's own encoder."""
import base64, quopri, zlib

def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i+width] for i in range(0, len(s), width))

def word(text, cs, enc="B"):
    data = text.encode(cs)
    if enc == "B":
        return "=?%s?B?%s?=" % (cs, base64.b64encode(data).decode())
    return "=?%s?Q?%s?=" % (cs, quopri.encodestring(data, header=True).decode())

def head(subject, extra=""):
    return ("From: =?utf-8?B?%s?= <victim@example.cn>\r\nTo: tips@liunan.example.gov.cn\r\n"
            "Date: Mon, 27 Mar 2023 18:30:00 +0800\r\nMessage-ID: <%s@example.cn>\r\n"
            "Subject: %s\r\nMIME-Version: 1.0\r\n%s" % (base64.b64encode("张 三".encode()).decode(), next(ids), subject, extra))

ids = iter(range(1000, 2000))

def write(name, data):
    with open(name, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("latin-1"))

BODY = "网上有人约我裸聊，录屏后敲诈我五千元，对方QQ 2851736490。"

write("utf8.eml", head(word("举报裸聊敲诈", "utf-8")) + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(BODY.encode("utf-8")) + "\r\n")
write("gb2312.eml", head(word("举报裸聊敲诈", "gb2312")) + "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(BODY.encode("gb2312")) + "\r\n")
write("gbk.eml", head(word("举报套路贷：砍头息", "gbk", "Q")) + "Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + quopri.encodestring("在714高炮平台借款，被扣了砍头息，镕字也要能读。".encode("gbk")).decode() + "\r\n")
write("gb18030.eml", head(word("举报水军", "gb18030")) + "Content-Type: text/plain; charset=GB18030\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("有人雇水军控评，还有𠮷这个只有GB18030才有的字。".encode("gb18030")) + "\r\n")
write("big5.eml", head(word("舉報網路水軍", "big5")) + "Content-Type: text/plain; charset=big5\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("有人僱傭水軍在網路上誹謗我們公司。".encode("big5")) + "\r\n")
write("html-only.eml", head(word("举报", "utf-8")) + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
      "<html><head><title>不要这个标题</title><style>p{color:red}</style></head><body><p>催收天天<b>爆通讯录</b>&amp;打电话</p><script>alert('不要脚本')</script><div>第二段</div></body></html>\r\n".encode("utf-8").decode("latin-1"))
write("alternative.eml", head(word("举报", "utf-8")) + 'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      "纯文本版本：有偿删帖。\r\n".encode().decode("latin-1") + "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + "<p>网页版本：有偿删帖。</p>\r\n".encode().decode("latin-1") + "--ALT--\r\n")
inner = ("From: someone@example.cn\r\nSubject: %s\r\nContent-Type: multipart/mixed; boundary=\"IN\"\r\n\r\n--IN\r\nContent-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"
         "--IN\r\nContent-Type: image/png; name=\"chat.png\"\r\nContent-Disposition: attachment; filename=\"chat.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--IN--\r\n") % (
         word("聊天记录", "gbk"), b64("对方说不给钱就把视频发给你的亲友。".encode("gbk")), b64(b"\x89PNG\r\n\x1a\nfake-png-bytes"))
write("forwarded.eml", head(word("转发：被敲诈的经过", "utf-8")) + 'Content-Type: multipart/mixed; boundary="OUT"\r\n\r\n--OUT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      "请看下面转发的邮件。\r\n".encode().decode("latin-1") + "--OUT\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--OUT--\r\n")
apk = b"PK\x03\x04" + bytes(range(256)) * 8
write("attachments.eml", head(word("举报套路贷APP", "utf-8")) + 'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      "安装包和截图在附件里。\r\n".encode().decode("latin-1") +
      '--M\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline; filename="%s"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n' % (word("截图.jpg", "utf-8"), b64(b"\xff\xd8\xff\xe0fake-jpeg")) +
      "--M\r\nContent-Type: application/vnd.android.package-archive\r\nContent-Disposition: attachment; filename*=utf-8''%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--M--\r\n" % ("%E9%80%9F%E5%80%9F%E5%AE%9D.apk", b64(apk)))
write("nocharset-gbk.eml", ("From: x@example.cn\r\nSubject: %s\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" % "举报催收".encode("gbk").decode("latin-1")) + "催收用呼死你打我电话。\r\n".encode("gbk").decode("latin-1"))
write("wrong-label.eml", "From: x@example.cn\r\nSubject: test\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + "职业打假的人要十倍赔偿。\r\n".encode("gbk").decode("latin-1"))
write("unknown-charset.eml", "From: x@example.cn\r\nSubject: test\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n" + "自媒体要公关费。\r\n".encode().decode("latin-1"))
write("missing-boundary.eml", "From: x@example.cn\r\nSubject: test\r\nContent-Type: multipart/mixed\r\n\r\n" + "没有边界的邮件：水军控评。\r\n".encode().decode("latin-1"))
write("truncated-base64.eml", "From: x@example.cn\r\nSubject: test\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("催收爆通讯录，一天打几百个电话。".encode())[:-7] + "\r\n")
write("bad-qp.eml", "From: x@example.cn\r\nSubject: test\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + quopri.encodestring("有人雇水军".encode()).decode() + "=ZZ=\r\n")
nest = "从最里面读出来的文字：控评。\r\n".encode().decode("latin-1")
for i in range(20):
    nest = 'Content-Type: multipart/mixed; boundary="B%d"\r\n\r\n--B%d\r\n%s\r\n--B%d--\r\n' % (i, i, nest if i else "Content-Type: text/plain; charset=utf-8\r\n\r\n" + nest, i)
write("deep.eml", "From: x@example.cn\r\nSubject: deep\r\n" + nest)
parts = "".join('--P\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npart %d\r\n' % i for i in range(2000))
write("many-parts.eml", 'From: x@example.cn\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary="P"\r\n\r\n' + parts + "--P--\r\n")
write("no-body.eml", "From: x@example.cn\r\nSubject: %s\r\n\r\n" % word("只有标题：裸聊敲诈", "utf-8"))
write("header-injection.eml", "From: x@example.cn\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n" % word("标题\r\nBcc: evil@example.com\r\n\r\n注入", "utf-8"))
