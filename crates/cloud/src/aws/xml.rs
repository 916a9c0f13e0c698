//! The XML that STS and S3 answer with: the text of an element, and error answers mapped to
//! [`CloudError`] by their `Code` alone (their `Message` can quote what was sent).

use crate::CloudError;

/// The S3 and STS error codes that mean "no such thing".
const NOT_FOUND: [&str; 3] = ["NoSuchKey", "NoSuchBucket", "NotFound"];

/// The text of the first element named `name` (namespaces ignored), if any.
pub(crate) fn text_of<'a>(doc: &'a roxmltree::Document<'_>, name: &str) -> Option<&'a str> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .and_then(|n| n.text())
}

/// Maps an error answer: `<Error><Code>…</Code>…` (S3) or `<ErrorResponse><Error><Code>…`
/// (STS); a body that is empty (HEAD) or not XML leaves the code out. 404 and the codes of
/// [`NOT_FOUND`] are [`CloudError::NotFound`].
pub(crate) fn error(service: &str, status: u16, body: &str) -> CloudError {
    let code = roxmltree::Document::parse(body)
        .ok()
        .and_then(|doc| text_of(&doc, "Code").map(str::to_owned))
        .filter(|c| {
            !c.is_empty()
                && c.len() <= 100
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        });
    let service = service.to_owned();
    if status == 404 || code.as_deref().is_some_and(|c| NOT_FOUND.contains(&c)) {
        return CloudError::NotFound { service, code };
    }
    CloudError::Http {
        service,
        status,
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_keep_the_code_and_never_the_message() {
        let s3 = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied for orgs/secret-name</Message><RequestId>1</RequestId></Error>"#;
        let err = error("s3", 403, s3);
        let text = err.to_string();
        assert!(
            text.contains("AccessDenied") && text.contains("403"),
            "{text}"
        );
        assert!(!text.contains("secret-name"), "{text}");
        let sts = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>token abc</Message></Error></ErrorResponse>"#;
        assert!(
            error("sts", 400, sts)
                .to_string()
                .contains("InvalidIdentityToken")
        );
        assert!(error("s3", 404, "").is_not_found());
        assert!(error("s3", 404, "<Error><Code>NoSuchKey</Code></Error>").is_not_found());
        assert!(!error("s3", 500, "not xml").is_not_found());
        let odd = error("s3", 400, "<Error><Code>a b</Code></Error>").to_string();
        assert!(!odd.contains("a b"), "{odd}");
    }
}
