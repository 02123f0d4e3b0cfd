/* gen_onix N OUT.xml: an ONIX 3.0 message of N products (reference names) for the
 * ONIX import benchmark: valid ISBN-13s (979-prefixed, distinct), a title, two
 * contributors, a subject, a description, a publisher, a date and a supply block,
 * about 3 KB per product. */
#include <stdio.h>
#include <stdlib.h>

static void isbn(unsigned long n, char out[14])
{
    snprintf(out, 14, "979%09lu", n);
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (i % 2 ? 3 : 1) * (out[i] - '0');
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_onix N OUT.xml\n");
        return 2;
    }
    unsigned long n = strtoul(argv[1], NULL, 10);
    FILE *f = fopen(argv[2], "w");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<ONIXMessage release=\"3.0\" xmlns=\"http://ns.editeur.org/onix/3.0/reference\">\n"
               "  <Header><Sender><SenderName>gen_onix</SenderName></Sender>"
               "<SentDateTime>20240101T000000</SentDateTime></Header>\n");
    for (unsigned long i = 1; i <= n; i++) {
        char id[14];
        isbn(i, id);
        fprintf(f,
                "  <Product>\n    <RecordReference>gen.%lu</RecordReference>\n"
                "    <NotificationType>03</NotificationType>\n"
                "    <ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>%s</IDValue>"
                "</ProductIdentifier>\n    <DescriptiveDetail>\n"
                "      <ProductComposition>00</ProductComposition><ProductForm>BC</ProductForm>\n"
                "      <TitleDetail><TitleType>01</TitleType><TitleElement><TitleElementLevel>01"
                "</TitleElementLevel><TitleText>Generated Book %lu</TitleText><Subtitle>A "
                "benchmark product</Subtitle></TitleElement></TitleDetail>\n"
                "      <Contributor><SequenceNumber>1</SequenceNumber><ContributorRole>A01"
                "</ContributorRole><NamesBeforeKey>Ann</NamesBeforeKey><KeyNames>Author%lu"
                "</KeyNames></Contributor>\n"
                "      <Contributor><SequenceNumber>2</SequenceNumber><ContributorRole>B01"
                "</ContributorRole><PersonNameInverted>Editor, Bob</PersonNameInverted>"
                "</Contributor>\n"
                "      <Language><LanguageRole>01</LanguageRole><LanguageCode>eng</LanguageCode>"
                "</Language>\n"
                "      <Extent><ExtentType>00</ExtentType><ExtentValue>%lu</ExtentValue>"
                "<ExtentUnit>03</ExtentUnit></Extent>\n"
                "      <Subject><SubjectSchemeIdentifier>10</SubjectSchemeIdentifier>"
                "<SubjectCode>FIC000000</SubjectCode><SubjectHeadingText>Fiction / General"
                "</SubjectHeadingText></Subject>\n    </DescriptiveDetail>\n"
                "    <CollateralDetail><TextContent><TextType>03</TextType><ContentAudience>00"
                "</ContentAudience><Text>Generated description of book %lu. Lorem ipsum dolor "
                "sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
                "labore et dolore magna aliqua.</Text></TextContent></CollateralDetail>\n"
                "    <PublishingDetail><Publisher><PublishingRole>01</PublishingRole>"
                "<PublisherName>Generated Press</PublisherName></Publisher><PublishingStatus>04"
                "</PublishingStatus><PublishingDate><PublishingDateRole>01</PublishingDateRole>"
                "<Date dateformat=\"00\">2023%02lu%02lu</Date></PublishingDate>"
                "</PublishingDetail>\n"
                "    <ProductSupply><SupplyDetail><Supplier><SupplierRole>01</SupplierRole>"
                "<SupplierName>Generated Distribution</SupplierName></Supplier>"
                "<ProductAvailability>21</ProductAvailability><Price><PriceType>01</PriceType>"
                "<PriceAmount>%lu.95</PriceAmount><CurrencyCode>EUR</CurrencyCode></Price>"
                "</SupplyDetail></ProductSupply>\n  </Product>\n",
                i, id, i, i, 100 + i % 400, i, 1 + i % 12, 1 + i % 28, 5 + i % 50);
    }
    fputs("</ONIXMessage>\n", f);
    if (fclose(f)) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
